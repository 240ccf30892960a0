/**
 * The DynamoDB tables of the operational state, defined once: the adapters read their key
 * names from here, the tests create the emulator's tables from here, and the CDK stack creates
 * the real ones from here, so a key schema cannot drift between them.
 */
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

export interface DynamoTableDefinition {
  /** The partition key (a string); no table here needs a sort key. */
  readonly partitionKey: string;
  /** Number attribute (epoch seconds) that DynamoDB TTL deletes the item after, if any. */
  readonly ttlAttribute?: string;
  /** The stream view a consumer needs, if any (the prediction log feeds Firehose from it). */
  readonly stream?: 'NEW_IMAGE';
  readonly description: string;
  /** Global secondary indexes (a string partition key and a number sort key), if any. */
  readonly indexes?: readonly DynamoIndexDefinition[];
}

export interface DynamoIndexDefinition {
  readonly name: string;
  readonly partitionKey: string;
  readonly sortKey: string;
}

/**
 * The prediction log by user: a sparse index (only items with `user_key`, i.e. with consent) that
 * DELETE /users/{user_id} queries; keys only (prediction_id, user_key, ts).
 */
export const PREDICTIONS_BY_USER: DynamoIndexDefinition = { name: 'by_user', partitionKey: 'user_key', sortKey: 'ts' };

/**
 * Erasure receipts (DELETE /users/{user_id}): one item per erasure, the pseudonym beside the
 * receipt only while unfinished. Only the API function uses it, so it is not in DYNAMO_TABLES
 * (whose names every function's configuration carries).
 */
export const ERASURES_TABLE = {
  partitionKey: 'erasure_id',
  description: 'Erasure receipts, one item per erasure; `user_key` (the pseudonym) only while unfinished.',
} as const satisfies DynamoTableDefinition;

export const DYNAMO_TABLES = {
  predictions: {
    partitionKey: 'prediction_id',
    ttlAttribute: 'expires_at',
    stream: 'NEW_IMAGE',
    description:
      "The prediction log: one item per prediction_id, written once, kept 90 days (TTL); by_user finds a user's items for an erasure.",
    indexes: [PREDICTIONS_BY_USER],
  },
  models: {
    partitionKey: 'pk',
    description:
      'model_metadata: `model#<id>` items (the records), `version#<version>` claims (unique versions) and the `alias#champion` pointer.',
  },
  experiments: {
    partitionKey: 'experiment_id',
    description: 'A/B experiments, one item each; small enough to scan.',
  },
  ads: {
    partitionKey: 'ad_id',
    description: 'The ad catalogue, one item per ad.',
  },
  features: {
    partitionKey: 'pk',
    ttlAttribute: 'expires_at',
    description:
      'Feature counters: `user#<pseudonym>` and `ad#<id>` items (all-time impressions and clicks, and per Kinesis shard the last sequence number counted), and `event#<table>#<id>` markers (one per counted event, TTL 7 days: de-duplication and click attribution).',
  },
} as const satisfies Record<string, DynamoTableDefinition>;

export type DynamoTableKey = keyof typeof DYNAMO_TABLES;

/** The physical table names, from the deployment's typed configuration. */
export type DynamoTableNames = Readonly<Record<DynamoTableKey, string>>;

/** Days a prediction stays in the operational log (the lake keeps its own copy for 400). */
export const PREDICTION_TTL_DAYS = 90;

/**
 * The CreateTable request of a table: on-demand capacity (traffic is bursty and the tables are
 * small), the stream where a consumer needs one. TTL is enabled by a separate call
 * (UpdateTimeToLive; a CDK table property) on `ttlAttribute`.
 */
export function createTableInput(key: DynamoTableKey, tableName: string): CreateTableCommandInput {
  return createTableInputOf(DYNAMO_TABLES[key], tableName);
}

/** The CreateTable request of any table definition (ERASURES_TABLE too). */
export function createTableInputOf(def: DynamoTableDefinition, tableName: string): CreateTableCommandInput {
  const indexes = def.indexes ?? [];
  return {
    TableName: tableName,
    AttributeDefinitions: [
      { AttributeName: def.partitionKey, AttributeType: 'S' },
      ...indexes.flatMap((i) => [
        { AttributeName: i.partitionKey, AttributeType: 'S' as const },
        { AttributeName: i.sortKey, AttributeType: 'N' as const },
      ]),
    ],
    KeySchema: [{ AttributeName: def.partitionKey, KeyType: 'HASH' }],
    ...(indexes.length > 0
      ? {
          GlobalSecondaryIndexes: indexes.map((i) => ({
            IndexName: i.name,
            KeySchema: [
              { AttributeName: i.partitionKey, KeyType: 'HASH' as const },
              { AttributeName: i.sortKey, KeyType: 'RANGE' as const },
            ],
            Projection: { ProjectionType: 'KEYS_ONLY' as const },
          })),
        }
      : {}),
    BillingMode: 'PAY_PER_REQUEST',
    ...(def.stream ? { StreamSpecification: { StreamEnabled: true, StreamViewType: def.stream } } : {}),
  };
}
