/**
 * The AWS stores' erasers (DELETE /users/{user_id}), in the order the API composition runs them:
 * the prediction log (DynamoDB, by its sparse by_user index), the feature store (Redis and its
 * DynamoDB backing table), then the lake (glue-lake-eraser.ts).
 */
import { BatchWriteCommand, DeleteCommand, type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Redis } from 'ioredis';
import type { ErasureTarget, StoreErasure, UserDataEraser } from '../../../core/ports.js';
import { DYNAMO_TABLES, PREDICTIONS_BY_USER } from '../dynamodb/tables.js';
import { counterRedisKey, DEFAULT_FEATURE_KEY_PREFIX } from '../redis/redis-feature-store.js';

const PREDICTION_KEY = DYNAMO_TABLES.predictions.partitionKey;
/** BatchWriteItem takes at most 25 requests. */
const BATCH = 25;
/** Rounds of retrying unprocessed items (throttling) before the erasure fails and is retried whole. */
const MAX_UNPROCESSED_ROUNDS = 8;

export class DynamoPredictionLogEraser implements UserDataEraser {
  readonly store = 'prediction_log';

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  async erase(target: ErasureTarget): Promise<StoreErasure> {
    let deleted = 0;
    let first: number | null = null;
    let last: number | null = null;
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: PREDICTIONS_BY_USER.name,
          KeyConditionExpression: '#u = :u',
          ExpressionAttributeNames: { '#u': PREDICTIONS_BY_USER.partitionKey },
          ExpressionAttributeValues: { ':u': target.userKey },
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      const items = page.Items ?? [];
      for (const item of items) {
        const ts = item[PREDICTIONS_BY_USER.sortKey] as number;
        first = first === null ? ts : Math.min(first, ts);
        last = last === null ? ts : Math.max(last, ts);
      }
      for (let i = 0; i < items.length; i += BATCH) {
        await this.deleteAll(items.slice(i, i + BATCH).map((item) => item[PREDICTION_KEY] as string));
      }
      deleted += items.length;
      start = page.LastEvaluatedKey;
    } while (start);
    return {
      removed: { predictions: deleted },
      detail:
        'Deleted from the DynamoDB prediction log (found by its by_user index). The stream ignores REMOVE records; point-in-time recovery backups keep them until they age out (35 days).',
      span: first !== null && last !== null ? { from: new Date(first), to: new Date(last) } : null,
    };
  }

  private async deleteAll(ids: readonly string[]): Promise<void> {
    let requests = ids.map((id) => ({ DeleteRequest: { Key: { [PREDICTION_KEY]: id } } }));
    for (let round = 0; requests.length > 0; round++) {
      if (round >= MAX_UNPROCESSED_ROUNDS)
        throw new Error(`${requests.length} predictions could not be deleted (throttled)`);
      if (round > 0) await this.sleep(50 * 2 ** round);
      const out = await this.doc.send(new BatchWriteCommand({ RequestItems: { [this.tableName]: requests } }));
      requests = (out.UnprocessedItems?.[this.tableName] ?? []) as typeof requests;
    }
  }
}

export interface FeatureEraserOptions {
  readonly featuresTable: string;
  /** The feature store's key prefix (default DEFAULT_FEATURE_KEY_PREFIX). */
  readonly keyPrefix?: string;
}

/**
 * The user's counters: the Redis hash (`fu:<pseudonym>`) and the durable item behind it
 * (`user#<pseudonym>` in the features table). The backing item goes first, so that a read
 * between the two cannot fill Redis again from it.
 */
export class AwsFeatureStoreEraser implements UserDataEraser {
  readonly store = 'feature_store';

  constructor(
    private readonly redis: Pick<Redis, 'del'>,
    private readonly doc: DynamoDBDocumentClient,
    private readonly options: FeatureEraserOptions,
  ) {}

  async erase(target: ErasureTarget): Promise<StoreErasure> {
    const out = await this.doc.send(
      new DeleteCommand({
        TableName: this.options.featuresTable,
        Key: { [DYNAMO_TABLES.features.partitionKey]: `user#${target.userKey}` },
        ReturnValues: 'ALL_OLD',
      }),
    );
    const keys = await this.redis.del(
      counterRedisKey({ entity: 'user', id: target.userKey }, this.options.keyPrefix ?? DEFAULT_FEATURE_KEY_PREFIX),
    );
    return {
      removed: { dynamodb_items: out.Attributes ? 1 : 0, redis_keys: keys },
      detail:
        "The user's counters in Redis and DynamoDB. Per-event markers (`event#…`, TTL 7 days), Redis impression keys (TTL) and cached scores (hashed keys, 30 s) expire by themselves; ad counters are aggregates and stay.",
    };
  }
}
