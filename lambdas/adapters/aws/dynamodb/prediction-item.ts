/**
 * A prediction log item read back from outside the adapter: the DynamoDB stream's NEW_IMAGE,
 * checked against the shape `toPredictionItem` (prediction-log.ts) writes and turned into the
 * lake's model_predictions row. The item's shape is the `PredictionItem` interface of
 * prediction-log.ts; the schema below is typed against it, so the two cannot drift apart.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import * as z from 'zod';
import type { PredictionItem } from './prediction-log.js';

const text = z.string().min(1).max(1024);
const optionalText = text.nullable().optional();
/** A JSON object as text: features and explanation are stored as the JSON the record carried. */
const jsonObjectText = z
  .string()
  .max(400 * 1024)
  .refine((s) => {
    try {
      const v: unknown = JSON.parse(s);
      return typeof v === 'object' && v !== null && !Array.isArray(v);
    } catch {
      return false;
    }
  }, 'is not a JSON object');

/**
 * What a stored item must hold. Null attributes are written as DynamoDB NULL; an item written by
 * a client with `removeUndefinedValues` may omit them, hence `optional`. Unknown attributes are
 * refused: the log is written only by DynamoPredictionLog, so one means a different writer.
 */
const PredictionItemSchema = z
  .object({
    prediction_id: text,
    request_id: optionalText,
    user_id: optionalText,
    ad_id: text,
    probability: z.number().min(0).max(1),
    model_id: text,
    model_version: text,
    variant: text,
    experiment_id: optionalText,
    fallback: z.boolean(),
    consent: z.boolean(),
    features: jsonObjectText,
    explanation: jsonObjectText.nullable().optional(),
    ts: z.number().int().nonnegative().max(8.64e15),
    exploration_bonus: z.number().finite().nonnegative().nullable().optional(),
    model_latency_ms: z.number().finite().nonnegative().nullable().optional(),
    expires_at: z.number().int().nonnegative(),
    // The by_user index's key (erasure): the pseudonym again, only with consent; not a lake column.
    user_key: text.optional(),
  })
  .strict();

type ParsedItem = z.infer<typeof PredictionItemSchema>;
// Compile-time tie to the writer's interface: a field added there and not here fails the build.
const _sameShape = (
  p: ParsedItem,
): Omit<
  PredictionItem,
  'request_id' | 'user_id' | 'experiment_id' | 'explanation' | 'exploration_bonus' | 'model_latency_ms'
> => p;
const _writerFits = (p: PredictionItem): ParsedItem => p;
void _sameShape;
void _writerFits;

/** The model_predictions lake row of an item (timestamps as Date, as LakeJsonCodec takes them). */
export type PredictionLakeRow = {
  prediction_id: string;
  request_id: string | null;
  user_id: string | null;
  ad_id: string;
  probability: number;
  model_version: string;
  model_id: string;
  variant: string;
  experiment_id: string | null;
  fallback: boolean;
  consent: boolean;
  features: string;
  timestamp: Date;
  exploration_bonus: number | null;
  model_latency_ms: number | null;
};

export type ItemDecoding = { ok: true; row: PredictionLakeRow } | { ok: false; problem: string };

/**
 * The lake row of a stream image (DynamoDB JSON), or why it is not a prediction log item. The
 * features column is the stored JSON text, byte for byte (never re-serialised, so the lake holds
 * what the model saw); the explanation and the TTL attribute are not lake columns.
 *
 * The problem names attributes and rules only, never values: the image holds user pseudonyms.
 */
export function lakeRowOfStreamImage(image: Record<string, unknown> | undefined): ItemDecoding {
  if (image === undefined) return { ok: false, problem: 'the record has no NewImage (stream view type?)' };
  let plain: Record<string, unknown>;
  try {
    plain = unmarshall(image as Record<string, AttributeValue>);
  } catch (err) {
    return { ok: false, problem: `the image is not DynamoDB JSON: ${(err as Error).message.slice(0, 200)}` };
  }
  return lakeRowOfItem(plain);
}

/** The lake row of an unmarshalled item, or why it is not a prediction log item. */
export function lakeRowOfItem(item: Record<string, unknown>): ItemDecoding {
  const parsed = PredictionItemSchema.safeParse(item);
  if (!parsed.success) {
    const problem = parsed.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.join('.') || '(item)'}: ${i.message}`)
      .join('; ');
    return { ok: false, problem };
  }
  const i = parsed.data;
  return {
    ok: true,
    row: {
      prediction_id: i.prediction_id,
      request_id: i.request_id ?? null,
      user_id: i.user_id ?? null,
      ad_id: i.ad_id,
      probability: i.probability,
      model_version: i.model_version,
      model_id: i.model_id,
      variant: i.variant,
      experiment_id: i.experiment_id ?? null,
      fallback: i.fallback,
      consent: i.consent,
      features: i.features,
      timestamp: new Date(i.ts),
      exploration_bonus: i.exploration_bonus ?? null,
      model_latency_ms: i.model_latency_ms ?? null,
    },
  };
}
