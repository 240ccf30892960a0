import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { FeatureMap, PredictionLog, PredictionRecord } from '../../../core/ports.js';
import type { Explanation } from '../../../core/schemas/predict.js';
import { batchGetByKey, type Item, isConditionalCheckFailed, mapBounded, type RetryPolicy } from './retry.js';
import { DYNAMO_TABLES, PREDICTION_TTL_DAYS, PREDICTIONS_BY_USER } from './tables.js';

const KEY = DYNAMO_TABLES.predictions.partitionKey;
const TTL_ATTRIBUTE = DYNAMO_TABLES.predictions.ttlAttribute;
const TTL_SECONDS = PREDICTION_TTL_DAYS * 86_400;

/** A prediction as stored: the record's scalars, `ts` in epoch ms, features and explanation as JSON text. */
export interface PredictionItem {
  prediction_id: string;
  request_id: string | null;
  user_id: string | null;
  ad_id: string;
  probability: number;
  model_id: string;
  model_version: string;
  variant: string;
  experiment_id: string | null;
  fallback: boolean;
  consent: boolean;
  features: string;
  explanation: string | null;
  ts: number;
  /** Absent on items written before exploration existed. */
  exploration_bonus?: number | null;
  /** Absent on items written before model latency was logged. */
  model_latency_ms?: number | null;
  /** Epoch seconds after which DynamoDB TTL deletes the item. */
  expires_at: number;
  /** The pseudonym again, only with consent: the key of the sparse by_user index (erasure). */
  user_key?: string;
}

/**
 * Features and explanation are stored as JSON strings, not maps: the item is written once and
 * never updated or queried by feature, the lake's `features` column is this same JSON text (the
 * stream consumer passes it on unchanged), and one string costs less to marshal on the predict
 * path than a typed map of up to 64 attributes.
 */
export function toPredictionItem(r: PredictionRecord): PredictionItem {
  const ts = r.timestamp.getTime();
  return {
    prediction_id: r.prediction_id,
    request_id: r.request_id,
    user_id: r.user_id,
    ad_id: r.ad_id,
    probability: r.probability,
    model_id: r.model_id,
    model_version: r.model_version,
    variant: r.variant,
    experiment_id: r.experiment_id,
    fallback: r.fallback,
    consent: r.consent,
    features: JSON.stringify(r.features),
    explanation: r.explanation === null ? null : JSON.stringify(r.explanation),
    ts,
    exploration_bonus: r.exploration_bonus,
    model_latency_ms: r.model_latency_ms,
    [TTL_ATTRIBUTE]: Math.floor(ts / 1000) + TTL_SECONDS,
    ...(r.user_id === null ? {} : { [PREDICTIONS_BY_USER.partitionKey]: r.user_id }),
  };
}

/** The record of a stored item (also of a stream NEW_IMAGE once unmarshalled). */
export function fromPredictionItem(item: Item): PredictionRecord {
  const i = item as unknown as PredictionItem;
  return {
    prediction_id: i.prediction_id,
    request_id: i.request_id ?? null,
    user_id: i.user_id ?? null,
    ad_id: i.ad_id,
    probability: i.probability,
    model_id: i.model_id,
    model_version: i.model_version,
    variant: i.variant,
    experiment_id: i.experiment_id ?? null,
    fallback: i.fallback,
    consent: i.consent,
    features: JSON.parse(i.features) as FeatureMap,
    explanation: i.explanation == null ? null : (JSON.parse(i.explanation) as Explanation),
    exploration_bonus: i.exploration_bonus ?? null,
    model_latency_ms: i.model_latency_ms ?? null,
    timestamp: new Date(i.ts),
  };
}

export interface DynamoPredictionLogOptions {
  /** PutItem calls in flight per putAll (the SDK's connection pool holds 50 by default). */
  readonly concurrency?: number;
  readonly retry?: RetryPolicy;
}

/**
 * The prediction log on DynamoDB: one item per prediction_id, written with a conditional put
 * (`attribute_not_exists`), so a prediction is written once and a replay is reported as a
 * duplicate while the stored item wins. BatchWriteItem takes no condition, so a batch is written
 * as individual PutItems, `concurrency` at a time; throttled puts are retried by the SDK client's
 * own retry strategy (configured by the composition root).
 */
export class DynamoPredictionLog implements PredictionLog {
  private readonly concurrency: number;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly options: DynamoPredictionLogOptions = {},
  ) {
    this.concurrency = options.concurrency ?? 25;
  }

  async putAll(records: readonly PredictionRecord[]): Promise<{ duplicates: number[] }> {
    // A repeated id inside one batch is a duplicate of its first occurrence, as in the local log;
    // racing both puts would let either one win.
    const firstIndex = new Map<string, number>();
    const duplicate = new Array<boolean>(records.length).fill(false);
    const toWrite: number[] = [];
    records.forEach((r, i) => {
      if (firstIndex.has(r.prediction_id)) duplicate[i] = true;
      else {
        firstIndex.set(r.prediction_id, i);
        toWrite.push(i);
      }
    });
    await mapBounded(toWrite, this.concurrency, async (i) => {
      try {
        await this.doc.send(
          new PutCommand({
            TableName: this.tableName,
            Item: toPredictionItem(records[i]!),
            ConditionExpression: 'attribute_not_exists(#k)',
            ExpressionAttributeNames: { '#k': KEY },
          }),
        );
      } catch (err) {
        if (!isConditionalCheckFailed(err)) throw err;
        duplicate[i] = true;
      }
    });
    return { duplicates: duplicate.flatMap((d, i) => (d ? [i] : [])) };
  }

  /**
   * Strongly consistent reads: the predict use case reads the winners of the duplicates it was
   * just told about, which may have been written a few milliseconds earlier by another request.
   */
  async getMany(predictionIds: readonly string[]): Promise<(PredictionRecord | undefined)[]> {
    if (predictionIds.length === 0) return [];
    const found = await batchGetByKey(this.doc, this.tableName, KEY, [...new Set(predictionIds)], {
      consistentRead: true,
      ...(this.options.retry ? { policy: this.options.retry } : {}),
    });
    return predictionIds.map((id) => {
      const item = found.get(id);
      return item === undefined ? undefined : fromPredictionItem(item);
    });
  }
}
