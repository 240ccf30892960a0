/**
 * The body of `POST /invocations`: a batch of feature records to score, validated strictly and
 * bounded (SageMaker caps a real-time payload at 6 MB; the bounds keep one request's work bounded
 * too). One user's many candidate ads can share their user/context part once in `shared`.
 */
import * as z from 'zod';
import type { Explanation, Scorer, Uncertainty } from '../model/scorer.js';

export const MAX_INSTANCES = 1000;
export const MAX_FEATURES = 256;
export const MAX_STRING = 1024;
export const MAX_BODY_BYTES = 6 * 1024 * 1024;

const FeatureValue = z.union([z.string().max(MAX_STRING), z.number().finite(), z.boolean(), z.null()]);
const Features = z
  .record(z.string().min(1).max(128), FeatureValue)
  .refine((m) => Object.keys(m).length <= MAX_FEATURES, { message: `at most ${MAX_FEATURES} features` });

export const InvocationRequest = z
  .object({
    instances: z
      .array(z.object({ features: Features }).strict())
      .min(1)
      .max(MAX_INSTANCES),
    /** Features common to every instance (the user and the request context); an instance's own win. */
    shared: Features.optional(),
    explain: z.boolean().optional(),
    /** Add each prediction's uncertainty (how much training evidence its features have). */
    uncertainty: z.boolean().optional(),
  })
  .strict();
export type InvocationRequest = z.infer<typeof InvocationRequest>;

export interface InvocationPrediction {
  probability: number;
  explanation?: Explanation;
  uncertainty?: Uncertainty | null;
}

export interface InvocationResponse {
  model: { algorithm: string; created_at: string; metadata: Record<string, unknown> };
  predictions: InvocationPrediction[];
}

export function invoke(scorer: Scorer, request: InvocationRequest): InvocationResponse {
  const m = scorer.manifest;
  const model = { algorithm: m.algorithm, created_at: m.created_at, metadata: m.metadata };
  const { shared, instances } = request;
  const explain = request.explain === true;
  const uncertainty = request.uncertainty === true;
  if (shared && !explain && !uncertainty) {
    // One user, many candidate ads: the shared part of the sum is computed once for the batch.
    const candidateFields = [...new Set(instances.flatMap((i) => Object.keys(i.features)))];
    const probabilities = scorer.batch(candidateFields).score(
      shared,
      instances.map((i) => i.features),
    );
    return { model, predictions: Array.from(probabilities, (probability) => ({ probability })) };
  }
  const predictions = instances.map(({ features }) => {
    const s = scorer.score(shared ? { ...shared, ...features } : features, { explain, uncertainty });
    const p: InvocationPrediction = { probability: s.probability };
    if (s.explanation) p.explanation = s.explanation;
    if (uncertainty) p.uncertainty = s.uncertainty ?? null;
    return p;
  });
  return { model, predictions };
}
