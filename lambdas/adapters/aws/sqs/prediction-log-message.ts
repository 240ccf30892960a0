/**
 * Decoding prediction log messages (the format and the packing: prediction-log-packing.ts, which the
 * predict function uses without loading zod). A body that is not a prediction log message of this
 * format is refused with the paths and rules it breaks, never its values.
 */
import * as z from 'zod';
import type { PredictionRecord } from '../../../core/ports.js';
import { Explanation } from '../../../core/schemas/predict.js';
import { PREDICTION_LOG_MESSAGE_KIND } from './prediction-log-packing.js';

export * from './prediction-log-packing.js';

const id = z.string().min(1).max(1024);
/**
 * Looser than the request's FeatureValue on purpose: a snapshot also holds catalogue and counter
 * features, and the redrive must accept whatever the API parked (the body's size is SQS's bound).
 */
const StoredFeatureValue = z.union([z.string(), z.number().refine(Number.isFinite), z.boolean(), z.null()]);

const RecordSchema = z
  .object({
    prediction_id: id,
    request_id: id.nullable(),
    user_id: id.nullable(),
    ad_id: id,
    probability: z.number().min(0).max(1),
    model_id: id,
    model_version: id,
    variant: id,
    experiment_id: id.nullable(),
    fallback: z.boolean(),
    consent: z.boolean(),
    features: z.record(z.string(), StoredFeatureValue),
    explanation: Explanation.nullable(),
    // Optional: a message parked before exploration existed has none.
    exploration_bonus: z.number().finite().nonnegative().nullable().optional(),
    // Optional: a message parked before latency was logged has none.
    model_latency_ms: z.number().finite().nonnegative().nullable().optional(),
    timestamp: z.iso.datetime({ offset: false, precision: 3 }),
  })
  .strict();

const MessageSchema = z
  .object({
    kind: z.literal(PREDICTION_LOG_MESSAGE_KIND),
    records: z.array(RecordSchema).min(1).max(10_000),
  })
  .strict();

export type MessageDecoding = { ok: true; records: PredictionRecord[] } | { ok: false; problem: string };

/** The records of a body, or why it is not a prediction log message (paths and rules, no values). */
export function decodePredictionMessage(body: string): MessageDecoding {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { ok: false, problem: 'the body is not JSON' };
  }
  const parsed = MessageSchema.safeParse(json);
  if (!parsed.success) {
    const problem = parsed.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`)
      .join('; ');
    return { ok: false, problem };
  }
  return {
    ok: true,
    records: parsed.data.records.map((r) => ({
      ...r,
      exploration_bonus: r.exploration_bonus ?? null,
      model_latency_ms: r.model_latency_ms ?? null,
      timestamp: new Date(r.timestamp),
    })),
  };
}
