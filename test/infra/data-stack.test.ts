/**
 * DataStack on its own (a fresh app per stage: the other stacks need not build): what the lake
 * must guarantee — encryption, TLS, no public access, retention from the stage config, Parquet
 * conversion against Glue tables generated from LAKE_TABLES, partitions by event time, an
 * enforced Athena workgroup — and that cdk-nag has nothing unacknowledged to say about it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { LAKE_TABLE_NAMES, LAKE_TABLES } from '../../lambdas/core/lake/tables.js';
import { STAGES, type StageName } from '../../lib/config.js';
import { sqlFilesOf } from '../../lib/constructs/lake/athena-workgroup.js';
import { GLUE_COLUMN_TYPES } from '../../lib/constructs/lake/glue-table.js';
import { partitionQueries } from '../../lib/constructs/lake/parquet-delivery-stream.js';
import { DataStack } from '../../lib/stacks/data-stack.js';
import { nagFindings, type SynthesizedStage } from './support/synth.js';

const REPO = join(import.meta.dirname, '..', '..');
const built = new Map<StageName, { app: App; stack: DataStack; template: Template }>();

function dataStack(stage: StageName) {
  let b = built.get(stage);
  if (!b) {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new DataStack(app, `adclick-${stage}-data`, { config: STAGES[stage] });
    b = { app, stack, template: Template.fromStack(stack) };
    built.set(stage, b);
  }
  return b;
}

// biome-ignore lint/suspicious/noExplicitAny: synthesized CloudFormation is untyped JSON
type Json = any;
type Resources = Record<string, { Properties: Record<string, Json> }>;

describe.each(['dev', 'prod'] as const)('the %s data stack', (stage) => {
  const config = STAGES[stage];
  const prefix = config.prefix;

  it('has no unacknowledged cdk-nag finding', () => {
    // Prepare
    const { app } = dataStack(stage);

    // Act
    const findings = nagFindings({ app } as SynthesizedStage).filter((f) =>
      f.resource.startsWith(`adclick-${stage}-data/`),
    );

    // Assess
    expect(findings.map((f) => `${f.rule} at ${f.resource}`)).toEqual([]);
  });

  it('encrypts every bucket, blocks public access and refuses plain HTTP', () => {
    // Prepare
    const { template } = dataStack(stage);

    // Act
    const buckets = template.findResources('AWS::S3::Bucket') as Resources;
    const policies = Object.values(template.findResources('AWS::S3::BucketPolicy') as Resources);

    // Assess
    expect(Object.keys(buckets).length).toBe(4);
    for (const [id, bucket] of Object.entries(buckets)) {
      const p = bucket.Properties;
      expect(p.BucketEncryption?.ServerSideEncryptionConfiguration?.length, id).toBe(1);
      expect(p.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      expect(p.VersioningConfiguration).toEqual({ Status: 'Enabled' });
      const policy = policies.find((pol) => pol.Properties.Bucket?.Ref === id);
      expect(JSON.stringify(policy?.Properties.PolicyDocument), id).toContain('"aws:SecureTransport":"false"');
    }
    // The data buckets use the stage key and log to the access-log bucket.
    const kms = Object.values(buckets).filter(
      (b) =>
        b.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault
          .SSEAlgorithm === 'aws:kms',
    );
    expect(kms.length).toBe(3);
    for (const b of kms) expect(b.Properties.LoggingConfiguration?.DestinationBucketName).toBeDefined();
  });

  it('expires each table prefix after its retention, noncurrent versions after a day, Athena results after its retention', () => {
    // Prepare
    const { template } = dataStack(stage);
    const rulesOf = (id: string) =>
      (template.findResources('AWS::S3::Bucket') as Resources)[id]!.Properties.LifecycleConfiguration.Rules as Json[];
    const ids = Object.keys(template.findResources('AWS::S3::Bucket'));

    // Act
    const lake = rulesOf(ids.find((id) => id.startsWith('LakeBucket'))!);
    const results = rulesOf(ids.find((id) => id.startsWith('AthenaResults'))!);

    // Assess
    for (const table of LAKE_TABLE_NAMES) {
      const days =
        table === 'training_examples' ? config.lake.trainingExamplesRetentionDays : config.lake.eventRetentionDays;
      expect(lake).toContainEqual(
        expect.objectContaining({ Prefix: `lake/${table}/`, ExpirationInDays: days, Status: 'Enabled' }),
      );
    }
    expect(lake).toContainEqual(expect.objectContaining({ NoncurrentVersionExpiration: { NoncurrentDays: 1 } }));
    expect(results).toContainEqual(
      expect.objectContaining({ Prefix: 'results/', ExpirationInDays: config.lake.athenaResultsRetentionDays }),
    );
  });

  it('has a rotating customer-managed key', () => {
    dataStack(stage).template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  it('has one on-demand, KMS-encrypted stream per event table, named as the API expects', () => {
    // Prepare
    const { template } = dataStack(stage);

    // Act
    const streams = Object.values(template.findResources('AWS::Kinesis::Stream') as Resources).map((s) => s.Properties);

    // Assess
    expect(streams.map((s) => s.Name).sort()).toEqual(
      [`${prefix}-ad-impressions`, `${prefix}-clicks`, `${prefix}-suspicious-events`].sort(),
    );
    for (const s of streams) {
      expect(s.StreamModeDetails).toEqual({ StreamMode: 'ON_DEMAND' });
      expect(s.StreamEncryption).toEqual({
        EncryptionType: 'KMS',
        KeyId: { 'Fn::GetAtt': [expect.any(String), 'Arn'] },
      });
    }
  });

  it('converts every Firehose to Parquet against its Glue table, partitioned by event time, with an error prefix', () => {
    // Prepare
    const { template } = dataStack(stage);

    // Act
    const streams = Object.values(template.findResources('AWS::KinesisFirehose::DeliveryStream') as Resources).map(
      (s) => s.Properties,
    );

    // Assess
    expect(streams.length).toBe(4);
    for (const s of streams) {
      const d = s.ExtendedS3DestinationConfiguration;
      const table = d.DataFormatConversionConfiguration.SchemaConfiguration.TableName.Ref as string;
      const name = LAKE_TABLE_NAMES.find((t) => table.startsWith(`Table${t.replace(/_/g, '')}`))!;
      expect(name, table).toBeDefined();
      expect(d.Prefix).toBe(`lake/${name}/dt=!{partitionKeyFromQuery:dt}/hour=!{partitionKeyFromQuery:hour}/`);
      expect(d.ErrorOutputPrefix).toMatch(new RegExp(`^lake-errors/${name}/!\\{firehose:error-output-type\\}/`));
      expect(d.FileExtension).toBe('.parquet');
      expect(d.DynamicPartitioningConfiguration.Enabled).toBe(true);
      expect(d.DataFormatConversionConfiguration.Enabled).toBe(true);
      expect(d.DataFormatConversionConfiguration.InputFormatConfiguration.Deserializer).toEqual({
        HiveJsonSerDe: { TimestampFormats: ['millis'] },
      });
      expect(d.DataFormatConversionConfiguration.OutputFormatConfiguration.Serializer.ParquetSerDe).toBeDefined();
      expect(d.BufferingHints.SizeInMBs).toBe(config.lake.firehoseBufferMiB);
      expect(d.EncryptionConfiguration.KMSEncryptionConfig).toBeDefined();
    }
    template.hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
      DeliveryStreamName: `${prefix}-model-predictions`,
      DeliveryStreamType: 'DirectPut',
      DeliveryStreamEncryptionConfigurationInput: { KeyType: 'CUSTOMER_MANAGED_CMK' },
    });
  });

  it('generates a Glue table with partition projection and exactly its columns for each LAKE_TABLES table', () => {
    // Prepare
    const { template } = dataStack(stage);

    // Act
    const tables = Object.values(template.findResources('AWS::Glue::Table') as Resources).map(
      (t) => t.Properties.TableInput,
    );

    // Assess
    expect(tables.map((t) => t.Name).sort()).toEqual([...LAKE_TABLE_NAMES].sort());
    for (const t of tables) {
      const def = LAKE_TABLES[t.Name as keyof typeof LAKE_TABLES];
      expect(t.StorageDescriptor.Columns.map((c: Json) => [c.Name, c.Type])).toEqual(
        def.columns.map((c) => [c.name, GLUE_COLUMN_TYPES[c.type]]),
      );
      expect(t.PartitionKeys.map((k: Json) => k.Name)).toEqual(['dt', 'hour']);
      expect(t.Parameters).toMatchObject({
        'projection.enabled': 'true',
        'projection.dt.type': 'date',
        'projection.dt.format': 'yyyy-MM-dd',
        'projection.hour.type': 'enum',
        'projection.hour.values': expect.stringMatching(/^00,01,.*,23$/),
      });
      expect(JSON.stringify(t.Parameters['storage.location.template'])).toContain(
        `/lake/${def.name}/dt=\${dt}/hour=\${hour}/`,
      );
    }
  });

  it('has an enforced, KMS-encrypted Athena workgroup with the stage cutoff, and one named query per SQL file', () => {
    // Prepare
    const { template } = dataStack(stage);
    const files = [
      ...sqlFilesOf(join(REPO, 'sql', 'analytics')).map((f) => `analytics/${f.name}`),
      ...sqlFilesOf(join(REPO, 'sql', 'training')).map((f) => `training/${f.name}`),
    ];

    // Act
    const queries = Object.values(template.findResources('AWS::Athena::NamedQuery') as Resources).map(
      (q) => q.Properties,
    );

    // Assess
    template.hasResourceProperties('AWS::Athena::WorkGroup', {
      Name: prefix,
      WorkGroupConfiguration: {
        EnforceWorkGroupConfiguration: true,
        BytesScannedCutoffPerQuery: config.lake.athenaBytesScannedCutoff,
        ResultConfiguration: { EncryptionConfiguration: { EncryptionOption: 'SSE_KMS', KmsKey: Match.anyValue() } },
      },
    });
    expect(files.length).toBeGreaterThan(0);
    expect(queries.map((q) => q.Name).sort()).toEqual(files.sort());
    for (const q of queries) expect(q.Database).toBe(`adclick_${stage}_lake`);
  });

  it('grants no IAM action "*" nor a service-wide wildcard, and Firehose writes only its own table', () => {
    // Prepare
    const { template } = dataStack(stage);

    // Act
    const statements = Object.values(template.findResources('AWS::IAM::Policy') as Resources).flatMap(
      (p) => p.Properties.PolicyDocument.Statement as Json[],
    );
    const actions = statements.flatMap((s) => [s.Action].flat() as string[]);
    const firehose = Object.entries(template.findResources('AWS::IAM::Policy') as Resources).filter(([id]) =>
      id.startsWith('Firehoseclicks'),
    );

    // Assess
    expect(actions.filter((a) => a === '*' || /^[a-z0-9-]+:\*$/.test(a))).toEqual([]);
    const objectResources = JSON.stringify(firehose.map(([, p]) => p.Properties.PolicyDocument));
    expect(objectResources).toContain('/lake/clicks/*');
    expect(objectResources).not.toContain('s3:DeleteObject');
    expect(objectResources).not.toMatch(/"\/\*"/);
  });

  it('deploys both Glue jobs with their shared module and SQL under their own names', () => {
    // Prepare
    const { template } = dataStack(stage);

    // Act
    const jobs = Object.values(template.findResources('AWS::Glue::Job') as Resources).map((j) => j.Properties);

    // Assess
    expect(jobs.map((j) => j.Name).sort()).toEqual([`${prefix}-compact-partition`, `${prefix}-rewrite-partition`]);
    for (const j of jobs) {
      expect(Number(j.GlueVersion)).toBeGreaterThanOrEqual(4);
      expect(j.SecurityConfiguration).toBe(`${prefix}-lake-jobs`);
      expect(JSON.stringify(j.DefaultArguments['--extra-py-files'])).toMatch(/glue-jobs\/lake_jobs\.py"/);
      expect(JSON.stringify(j.DefaultArguments['--extra-files'])).toMatch(
        /glue-jobs\/(compact|rewrite)-partition\.sql"/,
      );
      expect(j.DefaultArguments['--lake_prefix']).toBe('lake');
    }
  });
});

// The real jq (what Firehose runs the expressions with); .ci/run installs it.
const HAS_JQ = spawnSync('jq', ['--version']).status === 0;
if (!HAS_JQ) console.warn('jq is not on the PATH: the Firehose partition-key test is skipped');

describe('the Firehose partition keys', () => {
  it.skipIf(!HAS_JQ)('put an event in the UTC hour of its own time, read from epoch milliseconds', () => {
    // Prepare: 2026-12-01T23:59:59.999Z as the codec writes it
    const record = JSON.stringify({ timestamp: Date.UTC(2026, 11, 1, 23, 59, 59, 999) });
    const q = partitionQueries('timestamp');

    // Act
    const run = (expr: string) => execFileSync('jq', ['-r', expr], { input: record, encoding: 'utf8' }).trim();

    // Assess
    expect(run(q.dt)).toBe('2026-12-01');
    expect(run(q.hour)).toBe('23');
  });
});
