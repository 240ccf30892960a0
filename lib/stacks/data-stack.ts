import { join } from 'node:path';
import { Duration, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { LAKE_TABLE_NAMES, LAKE_TABLES, type LakeTableName } from '../../lambdas/core/lake/tables.js';
import type { StageConfig } from '../config.js';
import { ATHENA_RESULTS_PREFIX, AthenaWorkgroup } from '../constructs/lake/athena-workgroup.js';
import { LakeGlueTable } from '../constructs/lake/glue-table.js';
import { LakeJobs } from '../constructs/lake/lake-jobs.js';
import {
  dashed,
  glueDatabaseName,
  LAKE_ERRORS_PREFIX,
  LAKE_ERRORS_RETENTION_DAYS,
  LAKE_PREFIX,
  tablePrefix,
} from '../constructs/lake/layout.js';
import { ParquetDeliveryStream } from '../constructs/lake/parquet-delivery-stream.js';
import { SecureBucket } from '../constructs/lake/secure-bucket.js';
import type { DataResources, EventTableName } from './resources.js';

export interface DataStackProps extends StackProps {
  readonly config: StageConfig;
}

const S3_LOGS_USE_BUCKET_POLICY = '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy';
const REPOSITORY = join(import.meta.dirname, '..', '..');

/** The lake tables the API writes to Kinesis; each stream feeds its own Firehose. */
export const EVENT_TABLES: readonly EventTableName[] = ['ad_impressions', 'clicks', 'suspicious_events'];

/** Physical name of an event table's Kinesis stream (the API's ADCLICK_*_STREAM variables). */
export function eventStreamName(prefix: string, table: EventTableName): string {
  return `${prefix}-${dashed(table)}`;
}

/** Physical name of a lake table's Firehose delivery stream. */
export function deliveryStreamName(prefix: string, table: LakeTableName): string {
  return `${prefix}-${dashed(table)}`;
}

/** Stateful: the lake (S3 Parquet), the event streams and their Firehoses, Glue and Athena. */
export class DataStack extends Stack implements DataResources {
  readonly key: kms.IKey;
  readonly lakeBucket: s3.IBucket;
  readonly accessLogBucket: s3.IBucket;
  readonly eventStreams: Readonly<Record<EventTableName, kinesis.IStream>>;
  readonly predictionsDeliveryStream: { readonly name: string; readonly arn: string };
  /** The event tables' Firehoses, by table (their freshness is alarmed on). */
  readonly eventDeliveryStreamNames: Readonly<Record<EventTableName, string>>;
  readonly glueDatabaseName: string;
  readonly athenaWorkgroupName: string;
  readonly athenaResultsBucket: s3.IBucket;

  constructor(scope: Construct, id: string, props: DataStackProps) {
    super(scope, id, props);
    // S3 server access logs are allowed in by a bucket policy (not the LogDeliveryWrite ACL), so
    // the access-log bucket can keep ACLs disabled; set here so the stack needs no app-wide flag.
    this.node.setContext(S3_LOGS_USE_BUCKET_POLICY, true);
    const { config } = props;
    const { lake } = config;
    const removalPolicy = config.removalPolicy;
    const logRetention = config.serving.logRetentionDays as logs.RetentionDays;

    const key = new kms.Key(this, 'Key', {
      alias: `alias/${config.prefix}-data`,
      description: 'adclick lake: S3 objects, Kinesis streams, Firehose, Athena results, Glue logs',
      enableKeyRotation: true,
      removalPolicy,
    });
    this.allowGlueLogsToUse(key);
    this.key = key;

    const accessLogBucket = new s3.Bucket(this, 'AccessLogs', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      // S3 delivers server access logs only to a bucket encrypted with S3-managed keys.
      encryption: s3.BucketEncryption.S3_MANAGED,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy,
      lifecycleRules: [
        {
          id: 'expire-logs',
          expiration: Duration.days(config.serving.logRetentionDays),
          noncurrentVersionExpiration: Duration.days(1),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
    });
    Validations.of(accessLogBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'This is the server access log target of every other bucket; logging it to itself would log its own log writes.',
    });
    this.accessLogBucket = accessLogBucket;

    const secure = (id: string, logPrefix: string, lifecycleRules: s3.LifecycleRule[]) =>
      new SecureBucket(this, id, {
        encryptionKey: key,
        accessLogBucket,
        accessLogPrefix: logPrefix,
        lifecycleRules,
        removalPolicy,
      }).bucket;

    const retentionOf = (table: LakeTableName) =>
      table === 'training_examples' ? lake.trainingExamplesRetentionDays : lake.eventRetentionDays;
    const lakeBucket = secure('Lake', 'lake/', [
      ...LAKE_TABLE_NAMES.map((table) => ({
        id: `expire-${table}`,
        prefix: tablePrefix(table),
        expiration: Duration.days(retentionOf(table)),
      })),
      {
        id: 'expire-firehose-errors',
        prefix: `${LAKE_ERRORS_PREFIX}/`,
        expiration: Duration.days(LAKE_ERRORS_RETENTION_DAYS),
      },
      // A job that failed between staging and publishing leaves its staged files behind.
      { id: 'expire-job-staging', prefix: `${LAKE_PREFIX}/_staging/`, expiration: Duration.days(1) },
    ]);
    this.lakeBucket = lakeBucket;

    this.athenaResultsBucket = secure('AthenaResults', 'athena-results/', [
      {
        id: 'expire-results',
        prefix: ATHENA_RESULTS_PREFIX,
        expiration: Duration.days(lake.athenaResultsRetentionDays),
      },
    ]);

    this.glueDatabaseName = glueDatabaseName(config.prefix);
    const database = new glue.CfnDatabase(this, 'Database', {
      catalogId: this.account,
      databaseInput: {
        name: this.glueDatabaseName,
        description: 'adclick lake tables (generated from lambdas/core/lake/tables.ts)',
        locationUri: `s3://${lakeBucket.bucketName}/${LAKE_PREFIX}/`,
      },
    });
    const glueTables = {} as Record<LakeTableName, LakeGlueTable>;
    for (const table of LAKE_TABLE_NAMES) {
      const t = new LakeGlueTable(this, `Table-${table}`, {
        table: LAKE_TABLES[table],
        databaseName: this.glueDatabaseName,
        bucket: lakeBucket,
        retentionDays: retentionOf(table),
      });
      t.node.addDependency(database);
      glueTables[table] = t;
    }

    const delivery = (table: LakeTableName, source?: kinesis.IStream) =>
      new ParquetDeliveryStream(this, `Firehose-${table}`, {
        table: LAKE_TABLES[table],
        glueTable: glueTables[table],
        bucket: lakeBucket,
        key,
        deliveryStreamName: deliveryStreamName(config.prefix, table),
        ...(source ? { source } : {}),
        bufferInterval: lake.firehoseBufferInterval,
        bufferMiB: lake.firehoseBufferMiB,
        logRetention,
      });

    const streams = {} as Record<EventTableName, kinesis.IStream>;
    for (const table of EVENT_TABLES) {
      const stream = new kinesis.Stream(this, `Stream-${table}`, {
        streamName: eventStreamName(config.prefix, table),
        streamMode: kinesis.StreamMode.ON_DEMAND,
        encryption: kinesis.StreamEncryption.KMS,
        encryptionKey: key,
        retentionPeriod: Duration.hours(24),
        removalPolicy,
      });
      Validations.of(stream).acknowledge({
        id: 'AwsSolutions-KDS3',
        reason:
          'The stream uses the stage key on purpose, not aws/kinesis: one customer-managed, rotated key for the lake, the streams and Firehose, whose use by consumers is granted (and auditable) per role.',
      });
      streams[table] = stream;
      const fromStream = delivery(table, stream);
      Validations.of(fromStream.deliveryStream).acknowledge({
        id: 'AwsSolutions-KDF1',
        reason:
          'Firehose server-side encryption applies to Direct PUT only; this stream reads a Kinesis stream encrypted with the stage key and writes SSE-KMS objects with it.',
      });
    }
    this.eventStreams = streams;
    this.eventDeliveryStreamNames = Object.fromEntries(
      EVENT_TABLES.map((table) => [table, deliveryStreamName(config.prefix, table)]),
    ) as Record<EventTableName, string>;

    const predictions = delivery('model_predictions');
    this.predictionsDeliveryStream = {
      name: predictions.deliveryStream.deliveryStreamName,
      arn: predictions.deliveryStream.deliveryStreamArn,
    };

    new LakeJobs(this, 'LakeJobs', {
      prefix: config.prefix,
      lakeBucket,
      key,
      accessLogBucket,
      scriptsDir: join(REPOSITORY, 'glue-jobs'),
      sqlDir: join(REPOSITORY, 'sql', 'glue'),
      logRetention,
      removalPolicy,
    });

    const workgroup = new AthenaWorkgroup(this, 'Athena', {
      name: config.prefix,
      databaseName: this.glueDatabaseName,
      resultsBucket: this.athenaResultsBucket,
      key,
      bytesScannedCutoffPerQuery: lake.athenaBytesScannedCutoff,
      sqlFolders: [
        { dir: join(REPOSITORY, 'sql', 'analytics'), label: 'analytics' },
        { dir: join(REPOSITORY, 'sql', 'training'), label: 'training' },
      ],
      recursiveDelete: removalPolicy === RemovalPolicy.DESTROY,
    });
    for (const q of workgroup.namedQueries) q.node.addDependency(database);
    this.athenaWorkgroupName = workgroup.workgroup.ref;
    Validations.of(this).acknowledge({
      id: 'CloudFormation-Validate::W7001',
      reason:
        'The Firehose L2 always adds its regional CIDR mapping (used only by Redshift/HTTP destinations); S3 destinations leave it unreferenced.',
    });
  }

  /** Glue's security configuration encrypts the jobs' CloudWatch logs with the stage key. */
  private allowGlueLogsToUse(key: kms.Key): void {
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal(`logs.${this.region}.amazonaws.com`)],
        actions: [
          'kms:Encrypt',
          'kms:Decrypt',
          'kms:ReEncryptFrom',
          'kms:ReEncryptTo',
          'kms:GenerateDataKey',
          'kms:GenerateDataKeyWithoutPlaintext',
          'kms:DescribeKey',
        ],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': `arn:${this.partition}:logs:${this.region}:${this.account}:log-group:/aws-glue/*`,
          },
        },
      }),
    );
  }
}
