/**
 * The one scorer: the SageMaker container, the local embedded endpoint and the in-Lambda fallback
 * all score through it.
 *
 * logit = bias + ln(r) + Σ_field w[slot(field)], probability = σ(logit), where r is the negative
 * down-sampling rate the model was trained with (a model trained on a fraction r of the negatives
 * over-estimates the odds by 1/r; adding ln r restores them).
 *
 * Explanations are exact SHAP values in logit space: the model is linear in one-hot tokens, so
 * against the all-tokens-absent baseline each field's Shapley value is its token's weight and the
 * base value is the corrected bias. base_value + Σ contributions = logit (the scorer sums in that
 * very order, so the identity holds up to floating-point rounding of the sum only).
 */
import { type LoadedModel, loadModel, type Model, type ModelManifest, manifestOf } from './artifact.js';
import { FeatureEncoder, type FeatureMap } from './encoding.js';

export interface ScoreOptions {
  readonly explain?: boolean;
}

export interface Explanation {
  /** The corrected bias: the logit of a request with no features. */
  base_value: number;
  /** Per-field contribution to the logit, for every field of the model. */
  contributions: Record<string, number>;
}

export interface Score {
  probability: number;
  logit: number;
  explanation?: Explanation;
}

export interface Scorer {
  /** The parsed model.json. */
  readonly manifest: ModelManifest;
  score(features: FeatureMap, options?: ScoreOptions): Score;
}

/** The logistic function, without overflow for large |x|. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

export function createScorer(model: Model | LoadedModel): Scorer {
  const manifest = 'manifest' in model ? model.manifest : manifestOf(model);
  const weights = model.weights;
  const encoder = new FeatureEncoder({
    bits: manifest.hashing.bits,
    seed: manifest.hashing.seed,
    fields: manifest.fields,
  });
  const fields = encoder.fields;
  const baseValue = manifest.bias + Math.log(manifest.negative_sampling_rate);
  // Scoring is synchronous, so one scratch buffer per scorer is safe.
  const slots = new Uint32Array(fields.length);

  return {
    manifest,
    score(features: FeatureMap, options?: ScoreOptions): Score {
      const n = encoder.encodeInto(features, slots);
      let logit = baseValue;
      if (options?.explain !== true) {
        for (let i = 0; i < n; i++) logit += weights[slots[i]!]!;
        return { probability: sigmoid(logit), logit };
      }
      // A null prototype: a field named '__proto__' is an ordinary key here.
      const contributions = Object.create(null) as Record<string, number>;
      for (let i = 0; i < n; i++) {
        const w = weights[slots[i]!]!;
        contributions[fields[i]!] = w;
        logit += w;
      }
      return { probability: sigmoid(logit), logit, explanation: { base_value: baseValue, contributions } };
    },
  };
}

/** Loads an artifact folder (verified, see loadModel) and returns its scorer. */
export async function loadScorer(dir: string): Promise<Scorer> {
  return createScorer(await loadModel(dir));
}
