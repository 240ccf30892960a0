/**
 * Prediction records as SQS message bodies, for the prediction log's dead-letter queue and its
 * redrive: the format and the packing (decoding, which needs zod, is prediction-log-message.ts, off
 * the predict function's module graph). Lossless: every field of the record as JSON (numbers are finite doubles, which JSON
 * round-trips exactly), the timestamp as an ISO-8601 string with milliseconds. A body names its
 * format (`kind`), so a later version can be told apart and an unrelated message is refused.
 *
 * JSON.stringify escapes control characters and lone surrogates, so a body only ever holds the
 * characters SQS accepts.
 */
import type { PredictionRecord } from '../../../core/ports.js';

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
