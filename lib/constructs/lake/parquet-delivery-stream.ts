/**
 * A Firehose delivery stream that writes one lake table as Parquet: the JSON lines the runtime
 * writes (LakeJsonCodec: every column, timestamps in epoch milliseconds) are converted against the
 * table's Glue schema and land under `lake/<table>/dt=…/hour=…/` by the event's own time.
 *
 * Why dynamic partitioning and not `!{timestamp:…}`: that namespace is the time the record reached
 * Kinesis or Firehose, not the event's. DESIGN.md partitions by event time (the local lake does,
 * `partitionOf`), and the SQL prunes partitions by event-time bounds, so an event arriving a few
 * seconds after its hour closed would be invisible to a query for its hour. The jq query reads
 * the table's event-time column (epoch ms) and formats it in UTC.
 */
import { Duration, RemovalPolicy, Size, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { LakeTable } from '../../../lambdas/core/lake/tables.js';
import { acknowledge, bucketResourceFinding } from './acknowledge.js';
import type { LakeGlueTable } from './glue-table.js';
import { LAKE_ERRORS_PREFIX, tablePrefix } from './layout.js';

export interface ParquetDeliveryStreamProps {
  readonly table: LakeTable;
  readonly glueTable: LakeGlueTable;
  readonly bucket: s3.IBucket;
  /** Encrypts the objects written (and, for Direct PUT, the records Firehose holds). */
  readonly key: kms.IKey;
  readonly deliveryStreamName: string;
  /**
   * The Kinesis stream it reads.
   * @default - Direct PUT: producers call PutRecordBatch, and Firehose encrypts what it holds with `key`
   */
  readonly source?: kinesis.IStream;
  readonly bufferInterval: Duration;
  /** At least 64 MiB: Firehose's minimum with dynamic partitioning. */
  readonly bufferMiB: number;
  readonly logRetention: logs.RetentionDays;
}

/** The jq 1.6 expressions that give an event's `dt` and `hour` (UTC) from its epoch-ms column. */
export function partitionQueries(eventTimeColumn: string): { dt: string; hour: string } {
  const seconds = `(.${eventTimeColumn} / 1000 | floor)`;
  return { dt: `${seconds} | strftime("%Y-%m-%d")`, hour: `${seconds} | strftime("%H")` };
}

export class ParquetDeliveryStream extends Construct {
  readonly deliveryStream: firehose.DeliveryStream;
  /** The role Firehose writes to S3 with: its table's prefixes, its Glue table, its log group only. */
  readonly destinationRole: iam.Role;

  constructor(scope: Construct, id: string, props: ParquetDeliveryStreamProps) {
    super(scope, id);
    const { table } = props;
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.destinationRole = this.leastPrivilegeRole(props, logGroup);
    this.deliveryStream = new firehose.DeliveryStream(this, 'DeliveryStream', {
      deliveryStreamName: props.deliveryStreamName,
      ...(props.source
        ? { source: new firehose.KinesisStreamSource(props.source) }
        : { encryption: firehose.StreamEncryption.customerManagedKey(props.key) }),
      destination: new firehose.S3Bucket(props.bucket, {
        // The L2 would grant read-write-delete on the whole bucket to the role it is given; this
        // view of our own role ignores those grants, and the role holds only what is written above.
        role: this.destinationRole.withoutPolicyUpdates(),
        encryptionKey: props.key,
        bufferingInterval: props.bufferInterval,
        bufferingSize: Size.mebibytes(props.bufferMiB),
        dataOutputPrefix: `${tablePrefix(table.name)}dt=!{partitionKeyFromQuery:dt}/hour=!{partitionKeyFromQuery:hour}/`,
        errorOutputPrefix: `${LAKE_ERRORS_PREFIX}/${table.name}/!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/`,
        // The Glue jobs list a partition's `*.parquet` objects; Firehose adds no extension by itself.
        fileExtension: '.parquet',
        loggingConfig: new firehose.EnableLogging(logGroup),
        dynamicPartitioning: { enabled: true, retryDuration: Duration.hours(2) },
        processors: [firehose.MetadataExtractionProcessor.jq16(partitionQueries(table.eventTimeColumn))],
        dataFormatConversion: {
          schemaConfiguration: firehose.SchemaConfiguration.fromCfnTable(props.glueTable.cfnTable),
          // The Hive SerDe's `millis` reads the codec's epoch-millisecond timestamps exactly.
          inputFormat: new firehose.HiveJsonInputFormat({ timestampParsers: [firehose.TimestampParser.EPOCH_MILLIS] }),
          outputFormat: new firehose.ParquetOutputFormat({ compression: firehose.ParquetCompression.SNAPPY }),
        },
      }),
    });
    if (!props.source) {
      acknowledge(
        this.deliveryStream,
        ['AwsSolutions-IAM5[Action::kms:ReEncrypt*]', 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]'],
        "Firehose's own grant on the stage key for Direct PUT server-side encryption, on that one key.",
      );
    }
  }

  private leastPrivilegeRole(props: ParquetDeliveryStreamProps, logGroup: logs.LogGroup): iam.Role {
    const { table, bucket } = props;
    const stack = Stack.of(this);
    const role = new iam.Role(this, 'DestinationRole', {
      assumedBy: new iam.ServicePrincipal('firehose.amazonaws.com'),
      description: `Firehose to the lake: writes ${table.name} Parquet objects`,
    });
    const objects = [
      bucket.arnForObjects(`${tablePrefix(table.name)}*`),
      bucket.arnForObjects(`${LAKE_ERRORS_PREFIX}/${table.name}/*`),
    ];
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'],
        resources: [bucket.bucketArn],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:PutObject', 's3:GetObject', 's3:AbortMultipartUpload'],
        resources: objects,
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: [props.key.keyArn],
      }),
    );
    const glueArn = (resource: string, resourceName?: string) =>
      stack.formatArn({ service: 'glue', resource, ...(resourceName === undefined ? {} : { resourceName }) });
    const database = props.glueTable.cfnTable.databaseName;
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['glue:GetTable', 'glue:GetTableVersion', 'glue:GetTableVersions'],
        resources: [glueArn('catalog'), glueArn('database', database), glueArn('table', `${database}/${table.name}`)],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:PutLogEvents', 'logs:CreateLogStream'],
        resources: [logGroup.logGroupArn],
      }),
    );
    acknowledge(
      role,
      [
        bucketResourceFinding(bucket, `/${tablePrefix(table.name)}*`),
        bucketResourceFinding(bucket, `/${LAKE_ERRORS_PREFIX}/${table.name}/*`),
      ],
      'Firehose names each object it writes; the grant is held to the prefixes of this one table.',
    );
    return role;
  }
}
