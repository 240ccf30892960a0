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
}

export const DYNAMO_TABLES = {
  predictions: {
    partitionKey: 'prediction_id',
    ttlAttribute: 'expires_at',
    stream: 'NEW_IMAGE',
    description: 'The prediction log: one item per prediction_id, written once, kept 90 days (TTL).',
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
  const def: DynamoTableDefinition = DYNAMO_TABLES[key];
  return {
    TableName: tableName,
    AttributeDefinitions: [{ AttributeName: def.partitionKey, AttributeType: 'S' }],
    KeySchema: [{ AttributeName: def.partitionKey, KeyType: 'HASH' }],
    BillingMode: 'PAY_PER_REQUEST',
    ...(def.stream ? { StreamSpecification: { StreamEnabled: true, StreamViewType: def.stream } } : {}),
  };
}
