/**
 * Warm start: training that continues from an earlier model (the champion) instead of from zero.
 *
 * A warm start needs the earlier model's optimizer state (FTRL z and n, AdaGrad accumulators:
 * optimizer-state.ts), its factors and its slot counts, and an encoding that puts every token in
 * the same slot: the same hash, hash seed and bits, the same factor count, and the same FTRL
 * hyperparameters (z and n only mean the earlier weights under them). Anything else falls back to
 * a fresh training, with the reason recorded: never silently.
 *
 * Fields may differ: a slot is the hash of `field=value` (or `field#rare`), whatever the field
 * list, so a field the earlier model lacks simply starts from zero, and one the new data lacks
 * keeps its slots, unread. With no field in common there is nothing to continue from.
 *
 * The vocabulary is the union: the new model's slot counts are the earlier model's counts plus the
 * new rows' counts. The rare-value threshold (`minCount`), the factor threshold (`factorMinCount`)
 * and the scorer's uncertainty all read those combined counts, so a value the earlier model knew
 * keeps its weight (and stays out of the rare token) even when the new rows do not hold it, and a
 * value rare in both windows but frequent in their sum gets a weight of its own.
 */
import { InvalidModelError, loadModel, type Model } from './artifact.js';
import { type OptimizerState, readOptimizerState, stateProblem } from './optimizer-state.js';

/** What a training may warm start from: a model with its optimizer state, or why there is none. */
export interface WarmStart {
  /** The model to continue from; null when it could not be read (`unavailable` says why). */
  readonly model: Model | null;
  readonly unavailable?: string;
  /** Where the model came from, for messages (a folder, a model id). */
  readonly source?: string;
}

/** What a training did about a warm start: recorded in the model's metrics as `warm_start`. */
export interface WarmStartDecision {
  readonly requested: boolean;
  readonly used: boolean;
  /** Why a requested warm start fell back to a fresh training; null otherwise. */
  readonly reason: string | null;
  readonly source: string | null;
  /** The model continued from: its created_at and training window. */
  readonly from: {
    created_at: string;
    training_window: { from: string | null; to: string | null } | null;
  } | null;
  /** Fields of the new rows the earlier model did not have (they start from zero). */
  readonly new_fields: string[];
  /** Fields of the earlier model the new rows lack (their slots are kept, unread). */
  readonly dropped_fields: string[];
}

export const NOT_REQUESTED: WarmStartDecision = {
  requested: false,
  used: false,
  reason: null,
  source: null,
  from: null,
  new_fields: [],
  dropped_fields: [],
};

/** Loads the model in `dir` with its optimizer state. Never throws for an unusable artifact. */
export async function loadWarmStart(dir: string): Promise<WarmStart> {
  let model: Awaited<ReturnType<typeof loadModel>>;
  try {
    model = await loadModel(dir);
  } catch (error) {
    if (!(error instanceof InvalidModelError)) throw error;
    return { model: null, source: dir, unavailable: `the model in ${dir} cannot be loaded: ${error.message}` };
  }
  if (model.manifest.format_version < 2 || model.counts === null) {
    return {
      model: null,
      source: dir,
      unavailable: `the model in ${dir} is a format_version ${model.manifest.format_version} artifact without slot counts`,
    };
  }
  const read = await readOptimizerState(dir, model.counts, model.manifest.weights.sha256);
  if ('unavailable' in read) {
    return {
      model: null,
      source: dir,
      unavailable: `the model in ${dir} has no usable optimizer state: ${read.unavailable}`,
    };
  }
  return { model: { ...model, optimizer: read.state }, source: dir };
}

/** The new training's encoding and linear optimizer, to compare with the earlier model's. */
export interface WarmStartTarget {
  readonly bits: number;
  readonly hashSeed: number;
  readonly hash: string;
  readonly factors: number;
  readonly ftrl: { alpha: number; beta: number; l1: number; l2: number };
  readonly fields: readonly string[];
}

/**
 * The earlier model and its state when a warm start from it is possible, or the reason it is not.
 */
export function checkWarmStart(
  warm: WarmStart,
  target: WarmStartTarget,
): { model: Model & { optimizer: OptimizerState; counts: Uint16Array } } | { reason: string } {
  const model = warm.model;
  if (model === null) return { reason: warm.unavailable ?? 'no model to warm start from' };
  if (model.algorithm !== undefined && model.algorithm !== 'fm-hashed') {
    return { reason: `its algorithm is ${model.algorithm}, not fm-hashed` };
  }
  if (model.counts === null) return { reason: 'it has no slot counts (a version 1 artifact)' };
  if (!model.optimizer) return { reason: 'it carries no optimizer state' };
  const h = model.hashing;
  if (h.hash !== target.hash) return { reason: `its hash is ${h.hash}, the new training's ${target.hash}` };
  if (h.bits !== target.bits) return { reason: `its hashing bits are ${h.bits}, the new training's ${target.bits}` };
  if (h.seed !== target.hashSeed) {
    return { reason: `its hash seed is ${h.seed}, the new training's ${target.hashSeed}` };
  }
  if (model.factor_dim !== target.factors) {
    return { reason: `it has ${model.factor_dim} factors per slot, the new training ${target.factors}` };
  }
  for (const key of ['alpha', 'beta', 'l1', 'l2'] as const) {
    if (model.optimizer.ftrl[key] !== target.ftrl[key]) {
      return {
        reason: `its FTRL ${key} is ${model.optimizer.ftrl[key]}, the new training's ${target.ftrl[key]} (its z and n mean its weights only under its own)`,
      };
    }
  }
  const size = 2 ** target.bits;
  const problem = stateProblem(model.optimizer, size);
  if (problem) return { reason: `its optimizer state is not usable: ${problem}` };
  if (model.weights.length !== size || model.factors.length !== size * target.factors) {
    return { reason: 'its arrays do not match its hashing bits' };
  }
  const known = new Set(model.fields);
  if (!target.fields.some((f) => known.has(f))) {
    return { reason: `it has no field in common with the new rows (it has ${model.fields.join(', ') || 'none'})` };
  }
  return { model: model as Model & { optimizer: OptimizerState; counts: Uint16Array } };
}

/** The decision recorded for a warm start used from `model`. */
export function usedDecision(warm: WarmStart, model: Model, fields: readonly string[]): WarmStartDecision {
  const known = new Set(model.fields);
  const now = new Set(fields);
  return {
    requested: true,
    used: true,
    reason: null,
    source: warm.source ?? null,
    from: { created_at: model.created_at, training_window: model.training_window },
    new_fields: fields.filter((f) => !known.has(f)),
    dropped_fields: model.fields.filter((f) => !now.has(f)),
  };
}

export function fallbackDecision(warm: WarmStart, reason: string): WarmStartDecision {
  return { ...NOT_REQUESTED, requested: true, reason, source: warm.source ?? null };
}

/** One line saying what a training did about a warm start. */
export function describeWarmStart(d: WarmStartDecision): string {
  if (!d.requested) return 'fresh (no warm start asked for)';
  if (!d.used) return `fresh: cannot warm start from ${d.source ?? 'the given model'}: ${d.reason}`;
  const window = d.from?.training_window;
  const parts = [
    `warm start from ${d.source ?? 'the given model'} (created ${d.from?.created_at}${window ? `, trained on [${window.from}, ${window.to})` : ''})`,
  ];
  if (d.new_fields.length > 0) parts.push(`new fields start from zero: ${d.new_fields.join(', ')}`);
  if (d.dropped_fields.length > 0) parts.push(`fields not in the new rows: ${d.dropped_fields.join(', ')}`);
  return parts.join('; ');
}
