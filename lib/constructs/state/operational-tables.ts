/**
 * The DynamoDB tables of the operational state, generated from DYNAMO_TABLES (the definitions the
 * adapters and the emulator tests use), so a key, TTL attribute or stream cannot drift from them.
 */
import type { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import {
  DYNAMO_TABLES,
  type DynamoTableDefinition,
  type DynamoTableKey,
  ERASURES_TABLE,
} from '../../../lambdas/adapters/aws/dynamodb/tables.js';

export interface OperationalTablesProps {
  /** Prefix of the physical names (`<prefix>-<key>`): the functions' environment names them. */
  readonly prefix: string;
  /** Customer-managed key the tables (and the prediction log's stream) are encrypted with. */
  readonly encryptionKey: kms.IKey;
  readonly removalPolicy: RemovalPolicy;
  /**
   * Refuse `DeleteTable` (a deliberate console or API step is needed to lift it).
   * @default false
   */
  readonly deletionProtection?: boolean;
}

export class OperationalTables extends Construct {
  readonly tables: Readonly<Record<DynamoTableKey, dynamodb.Table>>;
  /** Erasure receipts (ERASURES_TABLE): only the API function and the erasure worker use it. */
  readonly erasures: dynamodb.Table;

  constructor(scope: Construct, id: string, props: OperationalTablesProps) {
    super(scope, id);
    const entries = (Object.entries(DYNAMO_TABLES) as [DynamoTableKey, DynamoTableDefinition][]).map(
      ([key, def]) =>
        [
          key,
          withIndexes(
            def,
            new dynamodb.Table(this, tableId(key), {
              tableName: `${props.prefix}-${key}`,
              partitionKey: { name: def.partitionKey, type: dynamodb.AttributeType.STRING },
              // Traffic is bursty and follows the ad servers: on-demand scales without a forecast.
              billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
              pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
              encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
              encryptionKey: props.encryptionKey,
              ...(def.ttlAttribute ? { timeToLiveAttribute: def.ttlAttribute } : {}),
              ...(def.stream ? { stream: dynamodb.StreamViewType[def.stream] } : {}),
              deletionProtection: props.deletionProtection ?? false,
              removalPolicy: props.removalPolicy,
            }),
          ),
        ] as const,
    );
    this.tables = Object.fromEntries(entries) as Record<DynamoTableKey, dynamodb.Table>;
    this.erasures = new dynamodb.Table(this, 'ErasuresTable', {
      tableName: `${props.prefix}-erasures`,
      partitionKey: { name: ERASURES_TABLE.partitionKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: props.encryptionKey,
      deletionProtection: props.deletionProtection ?? false,
      removalPolicy: props.removalPolicy,
    });
  }
}

/** The definition's global secondary indexes (the prediction log's by_user, for erasures): keys only. */
function withIndexes(def: DynamoTableDefinition, table: dynamodb.Table): dynamodb.Table {
  for (const index of def.indexes ?? []) {
    table.addGlobalSecondaryIndex({
      indexName: index.name,
      partitionKey: { name: index.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: index.sortKey, type: dynamodb.AttributeType.NUMBER },
      projectionType: dynamodb.ProjectionType.KEYS_ONLY,
    });
  }
  return table;
}

/** `predictions` → `PredictionsTable`: a stable construct id per definition key. */
function tableId(key: string): string {
  return `${key.charAt(0).toUpperCase()}${key.slice(1)}Table`;
}
