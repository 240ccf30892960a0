/**
 * The lake's Glue jobs (glue-jobs/, issue 4): partition compaction and the erasure rewrite.
 *
 * Why the scripts are deployed to fixed keys (a BucketDeployment) and not referenced as plain
 * file assets: an asset's object key is its hash, and Glue copies `--extra-py-files` and
 * `--extra-files` into the job under the object's own name. The jobs `import lake_jobs` and read
 * `compact-partition.sql` / `rewrite-partition.sql` beside it or in the working directory, so
 * those names must survive; under `glue-jobs/` in a bucket of their own they do.
 */
import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { acknowledge, bucketResourceFinding } from './acknowledge.js';
import { ERASURES_PREFIX, LAKE_PREFIX } from './layout.js';
import { SecureBucket } from './secure-bucket.js';

/** The jobs, by the name of their script in glue-jobs/ (and of their SQL in sql/glue/). */
export const LAKE_JOBS = {
  compactPartition: { script: 'compact_partition.py', sql: 'compact-partition.sql' },
  rewritePartition: { script: 'rewrite_partition.py', sql: 'rewrite-partition.sql' },
} as const;
export type LakeJobKey = keyof typeof LAKE_JOBS;

/** Physical job name: issue 8's erasure starts the rewrite by it. */
export function lakeJobName(prefix: string, job: LakeJobKey): string {
  return `${prefix}-${LAKE_JOBS[job].script.replace(/\.py$/, '').replace(/_/g, '-')}`;
}

const SCRIPTS_PREFIX = 'glue-jobs/';

export interface LakeJobsProps {
  readonly prefix: string;
  readonly lakeBucket: s3.IBucket;
  readonly key: kms.IKey;
  readonly accessLogBucket: s3.IBucket;
  /** Folders of the job scripts and their SQL (the repository's glue-jobs/ and sql/glue/). */
  readonly scriptsDir: string;
  readonly sqlDir: string;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
  /**
   * Glue version of both jobs (Spark 3.5, Python 3.11 on 5.0).
   * @default '5.0'
   */
  readonly glueVersion?: string;
}

export class LakeJobs extends Construct {
  readonly role: iam.Role;
  readonly jobs: Readonly<Record<LakeJobKey, glue.CfnJob>>;
  readonly scriptsBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: LakeJobsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.scriptsBucket = new SecureBucket(this, 'Scripts', {
      encryptionKey: props.key,
      accessLogBucket: props.accessLogBucket,
      accessLogPrefix: 'glue-scripts/',
      removalPolicy: props.removalPolicy,
    }).bucket;
    const deployment = new s3deploy.BucketDeployment(this, 'DeployScripts', {
      destinationBucket: this.scriptsBucket,
      destinationKeyPrefix: SCRIPTS_PREFIX,
      sources: [
        s3deploy.Source.asset(props.scriptsDir, { exclude: ['*', '!*.py'] }),
        s3deploy.Source.asset(props.sqlDir, { exclude: ['*', '!*.sql'] }),
      ],
      logGroup: new logs.LogGroup(this, 'DeployScriptsLogs', {
        retention: props.logRetention,
        removalPolicy: RemovalPolicy.DESTROY,
      }),
      memoryLimit: 512,
    });
    this.acknowledgeDeploymentFindings(deployment);

    const securityConfiguration = new glue.CfnSecurityConfiguration(this, 'SecurityConfiguration', {
      name: `${props.prefix}-lake-jobs`,
      encryptionConfiguration: {
        cloudWatchEncryption: { cloudWatchEncryptionMode: 'SSE-KMS', kmsKeyArn: props.key.keyArn },
        jobBookmarksEncryption: { jobBookmarksEncryptionMode: 'CSE-KMS', kmsKeyArn: props.key.keyArn },
        s3Encryptions: [{ s3EncryptionMode: 'SSE-KMS', kmsKeyArn: props.key.keyArn }],
      },
    });

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('glue.amazonaws.com'),
      description: 'adclick lake Glue jobs: rewrite lake partitions, nothing else',
    });
    const lake = props.lakeBucket;
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketVersions'],
        resources: [lake.bucketArn],
      }),
    );
    // Erasure deletes the old versions of what it rewrites (glue-jobs/README.md), hence the version delete.
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: [
          's3:GetObject',
          's3:PutObject',
          's3:DeleteObject',
          's3:DeleteObjectVersion',
          's3:AbortMultipartUpload',
        ],
        resources: [lake.arnForObjects(`${LAKE_PREFIX}/*`)],
      }),
    );
    // Receipts and users files of an erasure: s3://<lake bucket>/erasures/<id>/ (issue 8).
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject', 's3:PutObject'],
        resources: [lake.arnForObjects(`${ERASURES_PREFIX}*`)],
      }),
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [this.scriptsBucket.arnForObjects(`${SCRIPTS_PREFIX}*`)],
      }),
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'],
        resources: [props.key.keyArn],
      }),
    );
    const glueLogGroups = stack.formatArn({
      service: 'logs',
      resource: 'log-group',
      resourceName: '/aws-glue/*',
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:AssociateKmsKey'],
        resources: [glueLogGroups],
      }),
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': 'Glue' } },
      }),
    );
    acknowledge(
      this.role,
      [bucketResourceFinding(lake, `/${LAKE_PREFIX}/*`), bucketResourceFinding(lake, `/${ERASURES_PREFIX}*`)],
      'The jobs rewrite any partition of any lake table (and stage under lake/_staging/); which ones is a run argument.',
    );
    acknowledge(
      this.role,
      [bucketResourceFinding(this.scriptsBucket, `/${SCRIPTS_PREFIX}*`)],
      'The job scripts and their SQL, the only objects of the scripts bucket.',
    );
    acknowledge(
      this.role,
      [`AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws-glue/*]`],
      'Glue names its log groups under /aws-glue/ per security configuration and role; the grant stops at that prefix.',
    );
    acknowledge(
      this.role,
      ['AwsSolutions-IAM5[Resource::*]'],
      'cloudwatch:PutMetricData supports no resource; a condition holds it to the Glue namespace.',
    );

    const job = (key: LakeJobKey, jobId: string, description: string, maxConcurrentRuns: number): glue.CfnJob => {
      const { script, sql } = LAKE_JOBS[key];
      const scripts = `s3://${this.scriptsBucket.bucketName}/${SCRIPTS_PREFIX}`;
      const cfn = new glue.CfnJob(this, jobId, {
        name: lakeJobName(props.prefix, key),
        description,
        role: this.role.roleArn,
        glueVersion: props.glueVersion ?? '5.0',
        command: { name: 'glueetl', pythonVersion: '3', scriptLocation: `${scripts}${script}` },
        workerType: 'G.1X',
        numberOfWorkers: 2,
        timeout: Duration.hours(2).toMinutes(),
        maxRetries: 1,
        executionProperty: { maxConcurrentRuns },
        securityConfiguration: securityConfiguration.name,
        defaultArguments: {
          '--job-language': 'python',
          '--bucket': props.lakeBucket.bucketName,
          '--lake_prefix': LAKE_PREFIX,
          '--extra-py-files': `${scripts}lake_jobs.py`,
          '--extra-files': `${scripts}${sql}`,
          '--enable-metrics': 'true',
          '--enable-continuous-cloudwatch-log': 'true',
        },
      });
      cfn.node.addDependency(securityConfiguration, deployment);
      return cfn;
    };
    this.jobs = {
      // Partitions are compacted one run each, several hours or tables at once.
      compactPartition: job(
        'compactPartition',
        'CompactPartition',
        'Merges the small Parquet files of one lake partition, each id once.',
        10,
      ),
      // One run per table of an erasure, all tables at once.
      rewritePartition: job(
        'rewritePartition',
        'RewritePartition',
        "Erasure: rewrites lake partitions without the given users' rows and deletes old versions.",
        10,
      ),
    };
  }

  /** The deployment's Lambda is CDK's own singleton: these findings concern its fixed shape. */
  private acknowledgeDeploymentFindings(deployment: s3deploy.BucketDeployment): void {
    const handler = deployment.handlerRole.node.scope;
    if (handler === undefined) return;
    const stack = Stack.of(this);
    acknowledge(
      handler,
      ['AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]'],
      "CDK's BucketDeployment handler writes its own logs with the basic execution policy; it runs at deploy time only.",
    );
    acknowledge(
      handler,
      [
        'AwsSolutions-IAM5[Action::s3:GetObject*]',
        'AwsSolutions-IAM5[Action::s3:GetBucket*]',
        'AwsSolutions-IAM5[Action::s3:List*]',
        'AwsSolutions-IAM5[Action::s3:DeleteObject*]',
        'AwsSolutions-IAM5[Action::s3:Abort*]',
        'AwsSolutions-IAM5[Action::kms:ReEncrypt*]',
        'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
        `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::${stack.synthesizer.bootstrapQualifier ? `cdk-${stack.synthesizer.bootstrapQualifier}` : 'cdk-hnb659fds'}-assets-<AWS::AccountId>-<AWS::Region>/*]`,
        bucketResourceFinding(this.scriptsBucket, '/*'),
      ],
      'BucketDeployment reads the staged asset zips from the bootstrap bucket and syncs them, pruning, into the scripts bucket, which holds nothing else.',
    );
    acknowledge(
      handler,
      ['AwsSolutions-L1', 'Serverless-LambdaLatestVersion'],
      "The runtime of CDK's BucketDeployment handler is pinned by aws-cdk-lib, not by this app.",
    );
    acknowledge(
      handler,
      ['Serverless-LambdaDLQ', 'Serverless-LambdaTracing'],
      'A CloudFormation custom resource handler: a failure fails the deployment, which is the alert; nothing is retried asynchronously.',
    );
  }
}
