/**
 * The request and response of InvokeEndpoint in the container's format
 * (sagemaker/container/invocations.ts): `{instances: [{features}], shared?, explain?, uncertainty?}` →
 * `{model, predictions: [{probability, explanation?, uncertainty?}]}`.
 */
import type { FeatureMap, ScoreResult, ScoreRow, ScoreUncertainty } from '../../../core/ports.js';
import type { Explanation } from '../../../core/schemas/predict.js';

export interface InvocationBody {
  instances: { features: FeatureMap }[];
  shared?: FeatureMap;
  explain?: boolean;
  uncertainty?: boolean;
}

/**
 * The features every row holds with the same value (one user's context over many candidate ads)
 * go once in `shared`: a smaller payload, and the container scores the user's part once.
 */
export function invocationBody(rows: readonly ScoreRow[], explain: boolean, uncertainty = false): InvocationBody {
  const body: InvocationBody = { instances: [] };
  const first = rows[0]?.features;
  const shared: FeatureMap = {};
  let sharedCount = 0;
  if (first && rows.length > 1) {
    for (const key in first) {
      const value = first[key]!;
      if (rows.every((r) => Object.hasOwn(r.features, key) && r.features[key] === value)) {
        shared[key] = value;
        sharedCount++;
      }
    }
  }
  for (const row of rows) {
    if (sharedCount === 0) {
      body.instances.push({ features: row.features });
      continue;
    }
    const own: FeatureMap = {};
    for (const key in row.features) if (!Object.hasOwn(shared, key)) own[key] = row.features[key]!;
    body.instances.push({ features: own });
  }
  if (sharedCount > 0) body.shared = shared;
  if (explain) body.explain = true;
  if (uncertainty) body.uncertainty = true;
  return body;
}

/** The endpoint answered with something that is not a scored batch of the expected length. */
export class InvalidEndpointResponseError extends Error {
  constructor(detail: string) {
    super(`The model endpoint's response is not a valid scored batch: ${detail}`);
    this.name = 'InvalidEndpointResponseError';
  }
}

function isExplanation(value: unknown): value is Explanation {
  if (typeof value !== 'object' || value === null) return false;
  const e = value as { base_value?: unknown; contributions?: unknown };
  if (typeof e.base_value !== 'number' || typeof e.contributions !== 'object' || e.contributions === null) return false;
  return Object.values(e.contributions).every((c) => typeof c === 'number');
}

function isUncertainty(value: unknown): value is ScoreUncertainty {
  if (typeof value !== 'object' || value === null) return false;
  const u = value as { logit_sd?: unknown; evidence?: unknown };
  if (typeof u.logit_sd !== 'number' || !(u.logit_sd >= 0) || !Number.isFinite(u.logit_sd)) return false;
  if (typeof u.evidence !== 'object' || u.evidence === null) return false;
  if (!Object.values(u.evidence).every((c) => typeof c === 'number' && c >= 0)) return false;
  const sd = (value as { field_sd?: unknown }).field_sd;
  if (sd === undefined) return true;
  if (typeof sd !== 'object' || sd === null) return false;
  return Object.values(sd).every((v) => typeof v === 'number' && v >= 0 && Number.isFinite(v));
}

/** Checks the response by hand rather than with zod: it runs on every prediction. */
export function parseInvocationResponse(
  text: string,
  expected: number,
  explain: boolean,
  uncertainty = false,
): ScoreResult[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new InvalidEndpointResponseError('not JSON');
  }
  const predictions = (json as { predictions?: unknown } | null)?.predictions;
  if (!Array.isArray(predictions) || predictions.length !== expected)
    throw new InvalidEndpointResponseError(`expected ${expected} predictions`);
  return predictions.map((p: unknown, i) => {
    const probability = (p as { probability?: unknown } | null)?.probability;
    if (typeof probability !== 'number' || !(probability >= 0 && probability <= 1))
      throw new InvalidEndpointResponseError(`prediction ${i} has no probability in [0, 1]`);
    const result: { -readonly [K in keyof ScoreResult]: ScoreResult[K] } = { probability };
    const explanation = (p as { explanation?: unknown }).explanation;
    if (explain && explanation !== undefined) {
      if (!isExplanation(explanation)) throw new InvalidEndpointResponseError(`prediction ${i} has a bad explanation`);
      result.explanation = explanation;
    }
    if (uncertainty) {
      // An older container ignores the flag: no uncertainty is "cannot tell", not an error.
      const u = (p as { uncertainty?: unknown }).uncertainty;
      if (u !== undefined && u !== null && !isUncertainty(u))
        throw new InvalidEndpointResponseError(`prediction ${i} has a bad uncertainty`);
      result.uncertainty = u ?? null;
    }
    return result;
  });
}
