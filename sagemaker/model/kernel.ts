/**
 * The model's arithmetic, shared by the trainer (validation, recalibration) and the scorer, so
 * that both compute exactly the same logit.
 *
 * A row activates one slot per field. With linear weights w and factors v (k per slot):
 *
 *   logit = bias + ln r + Σ_i w[s_i] + Σ_{i<j} ⟨v[s_i], v[s_j]⟩
 *
 * and the pairwise sum is computed in O(n·k) as ½ Σ_f ((Σ_i v[s_i]_f)² − Σ_i v[s_i]_f²)
 * (Rendle, "Factorization Machines", ICDM 2010). A model with crosses (pairs of fields whose value
 * pairs have a weight of their own) appends one slot per cross after the fields' slots; those
 * slots are linear only: they add their weight and take no part in the pairwise sum.
 */

/**
 * Replaces the slot of each value seen in fewer than `minCount` training rows by its field's
 * rare slot, in place. `counts` null or `minCount` 0 leaves the slots as they are.
 */
export function applyRareSlots(
  slots: Uint32Array,
  n: number,
  counts: Uint16Array | Uint32Array | null,
  minCount: number,
  rareSlots: Uint32Array,
): void {
  if (counts === null || minCount <= 0) return;
  for (let i = 0; i < n; i++) {
    if (counts[slots[i]!]! < minCount) slots[i] = rareSlots[i]!;
  }
}

/**
 * Σ_i w[s_i] + Σ_{i<j} ⟨v[s_i], v[s_j]⟩ over the first n slots, where only the first
 * `factorSlots` (default n: all) take part in the pairwise sum: the slots after them (a model's
 * crosses) are linear only. `sums` (length ≥ k) is scratch and holds Σ_i v[s_i] afterwards.
 */
export function rowScore(
  slots: Uint32Array,
  n: number,
  weights: Float32Array,
  factors: Float32Array,
  k: number,
  sums: Float64Array,
  factorSlots = n,
): number {
  let linear = 0;
  for (let i = 0; i < n; i++) linear += weights[slots[i]!]!;
  if (k === 0) return linear;
  for (let f = 0; f < k; f++) sums[f] = 0;
  let squares = 0;
  const m = Math.min(factorSlots, n);
  for (let i = 0; i < m; i++) {
    const base = slots[i]! * k;
    for (let f = 0; f < k; f++) {
      const v = factors[base + f]!;
      sums[f]! += v;
      squares += v * v;
    }
  }
  let total = 0;
  for (let f = 0; f < k; f++) total += sums[f]! * sums[f]!;
  return linear + 0.5 * (total - squares);
}

/** The logistic function, without overflow for large |x|. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}
