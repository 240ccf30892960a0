/**
 * Prediction records as SQS message bodies, for the prediction log's dead-letter queue and its
 * redrive. Lossless: every field of the record as JSON (numbers are finite doubles, which JSON
 * round-trips exactly), the timestamp as an ISO-8601 string with milliseconds. A body names its
 * format (`kind`), so a later version can be told apart and an unrelated message is refused.
 *
 * JSON.stringify escapes control characters and lone surrogates, so a body only ever holds the
 * characters SQS accepts.
 */
import * as z from 'zod';
import type { PredictionRecord } from '../../../core/ports.js';
import { Explanation } from '../../../core/schemas/predict.js';

export const PREDICTION_LOG_MESSAGE_KIND = 'adclick.prediction-log.v1';

/** SQS's limit on a message body, and on the bodies of one SendMessageBatch together. */
export const SQS_MAX_MESSAGE_BYTES = 256 * 1024;

const PREFIX = `{"kind":"${PREDICTION_LOG_MESSAGE_KIND}","records":[`;
const SUFFIX = ']}';
const FRAME_BYTES = Buffer.byteLength(PREFIX) + Buffer.byteLength(SUFFIX);

/** One record as JSON, its Date as an ISO string. */
export function recordJson(r: PredictionRecord): string {
  return JSON.stringify({ ...r, timestamp: r.timestamp.toISOString() });
}

/**
 * The message bodies of the records, in order, each at most `maxBytes` (UTF-8) and holding as
 * many records as fit. A record too large for a message on its own is returned in `tooLarge`.
 */
export function packPredictionMessages(
  records: readonly PredictionRecord[],
  maxBytes = SQS_MAX_MESSAGE_BYTES,
): { bodies: string[]; tooLarge: number[] } {
  const bodies: string[] = [];
  const tooLarge: number[] = [];
  let parts: string[] = [];
  let bytes = FRAME_BYTES;
  const flush = () => {
    if (parts.length > 0) bodies.push(`${PREFIX}${parts.join(',')}${SUFFIX}`);
    parts = [];
    bytes = FRAME_BYTES;
  };
  records.forEach((r, i) => {
    const json = recordJson(r);
    const size = Buffer.byteLength(json);
    if (FRAME_BYTES + size > maxBytes) {
      tooLarge.push(i);
      return;
    }
    const separator = parts.length > 0 ? 1 : 0;
    if (bytes + separator + size > maxBytes) flush();
    bytes += (parts.length > 0 ? 1 : 0) + size;
    parts.push(json);
  });
  flush();
  return { bodies, tooLarge };
}

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
