/**
 * The one scorer: the SageMaker container, the local embedded endpoint and the in-Lambda fallback
 * all score through it.
 *
 *   logit = bias + ln r + Σ_i w[s_i] + Σ_{i<j} ⟨v[s_i], v[s_j]⟩,   probability = σ(logit)
 *
 * where s_i is field i's slot (its field's rare slot when the value was seen in fewer than
 * min_count training rows) and r the negative down-sampling rate (a model trained on a fraction r
 * of the negatives over-estimates the odds by 1/r; adding ln r restores them).
 *
 * Explanations are exact SHAP values in logit space against the all-fields-absent baseline. The
 * model is a sum of one term per field and one per pair of fields, and a Shapley value splits a
 * pure interaction equally between its two players, so field i gets
 *
 *   φ_i = w[s_i] + ½ Σ_{j≠i} ⟨v[s_i], v[s_j]⟩ = w[s_i] + ½ (⟨v[s_i], S⟩ − ‖v[s_i]‖²),  S = Σ_j v[s_j]
 *
 * and base_value + Σ φ_i = logit (up to floating-point rounding). A cross of fields a and b (a
 * weight for each pair of their values) is a pure interaction of its two fields too, so its weight
 * is split equally between them.
 *
 * Uncertainty (`uncertainty: true`) is a Laplace approximation of the posterior spread of the
 * logit from how many training rows held each value: a value seen c times in traffic of click rate
 * q carries about c·q(1−q) units of Fisher information, so its weight has variance about
 * 1 / (1 + c·q(1−q)) (prior variance 1), and logit_sd = √Σ_i of those. A value never seen
 * contributes the full prior variance 1, even though its prediction comes from the rare token.
 * A cross's weight adds its own variance (from its value pair's count), split equally between its
 * two fields' shares.
 */
import { type LoadedModel, loadModel, type Model, type ModelManifest, manifestOf } from './artifact.js';
import { FeatureEncoder, type FeatureMap, type FeatureValue } from './encoding.js';
import { applyRareSlots, rowScore, sigmoid } from './kernel.js';

export { sigmoid } from './kernel.js';

export interface ScoreOptions {
  readonly explain?: boolean;
  /** Also return the uncertainty (null for a model without training counts: version 1). */
  readonly uncertainty?: boolean;
}

export interface Explanation {
  /** The corrected bias: the logit of a request with no features. */
  base_value: number;
  /** Per-field contribution to the logit, for every field of the model. */
  contributions: Record<string, number>;
}

export interface Uncertainty {
  /** Approximate posterior standard deviation of the logit (see the module comment). */
  logit_sd: number;
  /** Training rows that held each field's value (saturating at 65535; 0 = never seen). */
  evidence: Record<string, number>;
  /** Each field's own share: the posterior standard deviation of its weight (√ of its term). */
  field_sd: Record<string, number>;
}

export interface Score {
  probability: number;
  logit: number;
  explanation?: Explanation;
  uncertainty?: Uncertainty | null;
}

/** Scores many candidates that share the same user and context (see Scorer.batch). */
export interface CandidateBatch {
  /** The model fields that are read from each candidate (the rest come from the shared map). */
  readonly fields: readonly string[];
  /**
   * Writes the probability of each candidate into `out` (allocated when absent) and returns it.
   * Candidate i scores exactly like `score({...shared, ...c})`, where c holds candidates[i]'s
   * values of the candidate fields only: a candidate field that is absent (or undefined) in a
   * candidate falls back to `shared`, and a candidate's other keys are ignored.
   */
  score(shared: FeatureMap, candidates: readonly FeatureMap[], out?: Float64Array): Float64Array;
}

export interface Scorer {
  /** The parsed model.json (version 1 or 2). */
  readonly manifest: ModelManifest;
  score(features: FeatureMap, options?: ScoreOptions): Score;
  /**
   * A batch scorer for the given candidate fields (typically the ad's: ad_id, campaign_id,
   * advertiser_id, category). The shared fields' linear sum and factor sums are computed once per
   * call, so each candidate costs only its own fields.
   */
  batch(candidateFields: readonly string[]): CandidateBatch;
}

/** Prior variance of one field's weight in the uncertainty approximation (logit units²). */
const PRIOR_VARIANCE = 1;

export function createScorer(model: Model | LoadedModel): Scorer {
  const manifest: ModelManifest = 'manifest' in model ? model.manifest : manifestOf(model);
  const { weights, factors, counts } = model;
  const k = model.factor_dim;
  const minCount = model.min_count;
  const encoder = new FeatureEncoder({ bits: model.hashing.bits, seed: model.hashing.seed, fields: model.fields });
  encoder.setCrosses(model.crosses ?? []);
  const fields = encoder.fields;
  const fieldCount = fields.length;
  /** Slots a row holds: its fields', then its crosses'. */
  const width = encoder.width;
  const crossCount = width - fieldCount;
  const crossA = new Uint32Array(crossCount);
  const crossB = new Uint32Array(crossCount);
  for (let c = 0; c < crossCount; c++) [crossA[c], crossB[c]] = encoder.crossFields(c);
  const rareSlots = new Uint32Array(Math.max(1, width));
  for (let i = 0; i < width; i++) rareSlots[i] = encoder.rareSlot(i);
  const baseValue = model.bias + Math.log(model.negative_sampling_rate);
  const q = model.training_click_rate ?? 0;
  const information = q * (1 - q);
  // Scoring is synchronous, so scratch buffers per scorer are safe.
  const raw = new Uint32Array(Math.max(1, width));
  const slots = new Uint32Array(Math.max(1, width));
  const sums = new Float64Array(Math.max(1, k));

  const uncertaintyOf = (): Uncertainty | null => {
    if (counts === null) return null;
    const evidence = Object.create(null) as Record<string, number>;
    const fieldSd = Object.create(null) as Record<string, number>;
    let variance = 0;
    const fieldVariance = crossCount > 0 ? new Float64Array(fieldCount) : null;
    for (let i = 0; i < fieldCount; i++) {
      const c = counts[raw[i]!]!;
      const v = 1 / (1 / PRIOR_VARIANCE + c * information);
      evidence[fields[i]!] = c;
      fieldSd[fields[i]!] = Math.sqrt(v);
      if (fieldVariance) fieldVariance[i] = v;
      variance += v;
    }
    if (fieldVariance) {
      for (let c = 0; c < crossCount; c++) {
        const v = 1 / (1 / PRIOR_VARIANCE + counts[raw[fieldCount + c]!]! * information);
        fieldVariance[crossA[c]!]! += 0.5 * v;
        fieldVariance[crossB[c]!]! += 0.5 * v;
        variance += v;
      }
      for (let i = 0; i < fieldCount; i++) fieldSd[fields[i]!] = Math.sqrt(fieldVariance[i]!);
    }
    return { logit_sd: Math.sqrt(variance), evidence, field_sd: fieldSd };
  };

  /** Position i's slot after the rare mapping (i ≥ fieldCount: a cross). */
  const mapSlot = (i: number, slot: number): number =>
    counts !== null && minCount > 0 && counts[slot]! < minCount ? rareSlots[i]! : slot;

  return {
    manifest,
    score(features: FeatureMap, options?: ScoreOptions): Score {
      const n = encoder.crossInto(raw, encoder.encodeInto(features, raw));
      slots.set(raw);
      applyRareSlots(slots, n, counts, minCount, rareSlots);
      if (options?.explain !== true) {
        const logit = baseValue + rowScore(slots, n, weights, factors, k, sums, fieldCount);
        const result: Score = { probability: sigmoid(logit), logit };
        if (options?.uncertainty === true) result.uncertainty = uncertaintyOf();
        return result;
      }
      if (k > 0) rowScore(slots, n, weights, factors, k, sums, fieldCount);
      // A null prototype: a field named '__proto__' is an ordinary key here.
      const contributions = Object.create(null) as Record<string, number>;
      let logit = baseValue;
      // A cross's weight, half to each of its fields (before the fields' own terms are added).
      const crossShare = crossCount > 0 ? new Float64Array(fieldCount) : null;
      if (crossShare) {
        for (let c = 0; c < crossCount; c++) {
          const half = 0.5 * weights[slots[fieldCount + c]!]!;
          crossShare[crossA[c]!]! += half;
          crossShare[crossB[c]!]! += half;
        }
      }
      for (let i = 0; i < fieldCount; i++) {
        const slot = slots[i]!;
        let phi = weights[slot]!;
        if (k > 0) {
          const base = slot * k;
          let dot = 0;
          let norm = 0;
          for (let f = 0; f < k; f++) {
            const v = factors[base + f]!;
            dot += v * sums[f]!;
            norm += v * v;
          }
          phi += 0.5 * (dot - norm);
        }
        if (crossShare) phi += crossShare[i]!;
        contributions[fields[i]!] = phi;
        logit += phi;
      }
      const result: Score = {
        probability: sigmoid(logit),
        logit,
        explanation: { base_value: baseValue, contributions },
      };
      if (options?.uncertainty === true) result.uncertainty = uncertaintyOf();
      return result;
    },

    batch(candidateFields: readonly string[]): CandidateBatch {
      const own = new Set(candidateFields);
      const candidateIndex: number[] = [];
      const sharedIndex: number[] = [];
      for (let i = 0; i < fieldCount; i++) (own.has(fields[i]!) ? candidateIndex : sharedIndex).push(i);
      const perCandidate = Uint32Array.from(candidateIndex);
      const perCall = Uint32Array.from(sharedIndex);
      const candidateNames = candidateIndex.map((i) => fields[i]!);
      const sharedSums = new Float64Array(Math.max(1, k));
      const candidateValues: (FeatureValue | undefined)[] = new Array(perCandidate.length);
      // Crosses of two shared fields are scored once per call, the others once per candidate; both
      // read the fields' raw slots (before the rare mapping) from here.
      const batchRaw = new Uint32Array(Math.max(1, fieldCount));
      const sharedCrosses: number[] = [];
      const ownCrosses: number[] = [];
      for (let c = 0; c < crossCount; c++) {
        (own.has(fields[crossA[c]!]!) || own.has(fields[crossB[c]!]!) ? ownCrosses : sharedCrosses).push(c);
      }
      const perCallCrosses = Uint32Array.from(sharedCrosses);
      const perCandidateCrosses = Uint32Array.from(ownCrosses);

      return {
        fields: candidateNames,
        score(shared: FeatureMap, candidates: readonly FeatureMap[], out?: Float64Array): Float64Array {
          const result = out ?? new Float64Array(candidates.length);
          if (result.length < candidates.length) {
            throw new RangeError(`out holds ${result.length} values for ${candidates.length} candidates`);
          }
          // The shared part: linear sum, factor sums and squared norms, once per call.
          let sharedLinear = baseValue;
          let sharedSquares = 0;
          sharedSums.fill(0);
          for (let j = 0; j < perCall.length; j++) {
            const i = perCall[j]!;
            const rawSlot = encoder.slotFor(i, shared[fields[i]!]);
            batchRaw[i] = rawSlot;
            const slot = mapSlot(i, rawSlot);
            sharedLinear += weights[slot]!;
            const base = slot * k;
            for (let f = 0; f < k; f++) {
              const v = factors[base + f]!;
              sharedSums[f]! += v;
              sharedSquares += v * v;
            }
          }
          for (let j = 0; j < perCallCrosses.length; j++) {
            const c = perCallCrosses[j]!;
            const rawSlot = encoder.crossSlotOf(c, batchRaw[crossA[c]!]!, batchRaw[crossB[c]!]!);
            sharedLinear += weights[mapSlot(fieldCount + c, rawSlot)]!;
          }
          for (let j = 0; j < perCandidate.length; j++) candidateValues[j] = shared[candidateNames[j]!];
          for (let c = 0; c < candidates.length; c++) {
            const candidate = candidates[c]!;
            let linear = sharedLinear;
            let squares = sharedSquares;
            for (let f = 0; f < k; f++) sums[f] = sharedSums[f]!;
            for (let j = 0; j < perCandidate.length; j++) {
              const i = perCandidate[j]!;
              const value = candidate[candidateNames[j]!];
              const rawSlot = encoder.slotFor(i, value === undefined ? candidateValues[j] : value);
              batchRaw[i] = rawSlot;
              const slot = mapSlot(i, rawSlot);
              linear += weights[slot]!;
              const base = slot * k;
              for (let f = 0; f < k; f++) {
                const v = factors[base + f]!;
                sums[f]! += v;
                squares += v * v;
              }
            }
            for (let j = 0; j < perCandidateCrosses.length; j++) {
              const x = perCandidateCrosses[j]!;
              const rawSlot = encoder.crossSlotOf(x, batchRaw[crossA[x]!]!, batchRaw[crossB[x]!]!);
              linear += weights[mapSlot(fieldCount + x, rawSlot)]!;
            }
            let total = 0;
            for (let f = 0; f < k; f++) total += sums[f]! * sums[f]!;
            result[c] = sigmoid(linear + 0.5 * (total - squares));
          }
          return result;
        },
      };
    },
  };
}

/** Loads an artifact folder (verified, see loadModel) and returns its scorer. */
export async function loadScorer(dir: string): Promise<Scorer> {
  return createScorer(await loadModel(dir));
}
