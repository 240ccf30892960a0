import { ArnFormat, Stack, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import type { StageConfig } from '../config.js';
import { tablePrefix } from '../constructs/lake/layout.js';
import { acknowledgeWildcards, type WildcardReason } from '../constructs/ml/acknowledge-wildcards.js';
import { BootstrapArtifact } from '../constructs/ml/bootstrap-artifact.js';
import { ModelEndpoint } from '../constructs/ml/model-endpoint.js';
import { ModelImage, platformOf } from '../constructs/ml/model-image.js';
import { RetrainPipeline } from '../constructs/ml/retrain-pipeline.js';
import type { DataResources, MlResources, StateResources } from './resources.js';

export interface MlStackProps extends StackProps {
  readonly config: StageConfig;
  readonly data: DataResources;
  readonly state: StateResources;
}

/** The model: SageMaker endpoint (A/B production variants, autoscaling) and the retraining pipeline. */
export class MlStack extends Stack implements MlResources {
  readonly endpointName: string;
  readonly imageUri: string;
  readonly executionRole: iam.IRole;
  readonly pipelineName: string;

  constructor(scope: Construct, id: string, props: MlStackProps) {
    super(scope, id, props);
    const { config, data, state } = props;
    const model = config.model;
    this.endpointName = `${config.prefix}-ctr`;
    this.pipelineName = `${config.prefix}-retrain`;

    // Hosting may run on Graviton while training and processing jobs run on x86: one image each.
    const servingImage = new ModelImage(this, 'ServingImage', { platform: platformOf(model.instanceType) });
    const jobPlatform = platformOf(model.trainingInstanceType);
    const jobImage =
      jobPlatform.platform === platformOf(model.instanceType).platform
        ? servingImage
        : new ModelImage(this, 'JobImage', { platform: jobPlatform });
    this.imageUri = servingImage.asset.imageUri;
    const bootstrap = new BootstrapArtifact(this, 'BootstrapArtifact');

    const executionRole = new iam.Role(this, 'ExecutionRole', {
      assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com'),
      description: `Runs the models of ${this.endpointName}: pulls the image, reads the artifacts, writes logs`,
    });
    this.executionRole = executionRole;
    servingImage.asset.repository.grantPull(executionRole);
    // Every artifact a runtime-added variant serves is an upload or a training output in the model bucket.
    state.modelBucket.grantRead(executionRole);
    bootstrap.asset.grantRead(executionRole);
    addSageMakerLogging(executionRole, this, ['Endpoints']);
    acknowledgeWildcards(executionRole, [
      ...S3_READ,
      ...SAGEMAKER_TELEMETRY,
      {
        finding: /^Resource::.*\/\*$/,
        reason:
          'Model artifacts: the runtime registers models (uploads and training outputs) under keys made when they are created, in the model bucket; the bootstrap object is one key of the asset bucket.',
      },
    ]);

    new ModelEndpoint(this, 'Endpoint', {
      endpointName: this.endpointName,
      imageUri: this.imageUri,
      modelDataUrl: bootstrap.asset.s3ObjectUrl,
      executionRole,
      key: data.key,
      instanceType: model.instanceType,
      initialInstanceCount: model.initialInstanceCount,
    });

    const jobRole = new iam.Role(this, 'JobRole', {
      assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com'),
      description: `Runs the ${this.pipelineName} jobs: Athena training set, training, evaluation, registration`,
    });
    grantJobs(jobRole, this, { config, data, state, bootstrapRead: (r) => bootstrap.asset.grantRead(r) });
    jobImage.asset.repository.grantPull(jobRole);
    acknowledgeWildcards(jobRole, [
      ...S3_READ,
      ...SAGEMAKER_TELEMETRY,
      {
        finding: /^Action::(s3:(Abort|DeleteObject|PutObject)|kms:(ReEncrypt|GenerateDataKey))\*$/,
        reason:
          'The grants of grantReadWrite/grantPut/grantEncryptDecrypt: jobs write training_examples and per-execution outputs (multipart uploads, overwrites of a retried step) encrypted with the one lake key.',
      },
      {
        finding: /^Resource::.*\/\*$/,
        reason:
          'Object keys made at run time: lake partitions the training-set SQL reads (any dt/hour), training_examples/* it writes, Athena results per query, pipeline/<execution id>/* in the model bucket, artifacts by registry key; Glue tables of the one lake database.',
      },
    ]);

    new RetrainPipeline(this, 'Retrain', {
      pipelineName: this.pipelineName,
      imageUri: jobImage.asset.imageUri,
      jobRole,
      modelBucket: state.modelBucket,
      key: data.key,
      athenaWorkgroup: data.athenaWorkgroupName,
      glueDatabase: data.glueDatabaseName,
      modelsTableName: state.tables.models.tableName,
      bootstrapArtifactUri: bootstrap.asset.s3ObjectUrl,
      trainingInstanceType: model.trainingInstanceType,
      processingInstanceType: model.processingInstanceType,
      cron: model.retrainCron,
    });
  }
}

/** Wildcards every S3 read grant (grantRead) carries. */
const S3_READ: readonly WildcardReason[] = [
  {
    finding: /^Action::s3:(GetObject|GetBucket|List)\*$/,
    reason:
      'The action groups of grantRead (object and version reads, bucket location, listing) on the named buckets only.',
  },
];

/** What SageMaker's jobs and endpoints need for their logs and metrics. */
const SAGEMAKER_TELEMETRY: readonly WildcardReason[] = [
  {
    finding: /^Resource::\*$/,
    reason:
      'ecr:GetAuthorizationToken and cloudwatch:PutMetricData have no resource-level permissions; PutMetricData is limited to SageMaker namespaces by a condition.',
  },
  {
    finding: /^Resource::arn:(?:<AWS::Partition>|aws[a-z-]*):logs:.*:log-group:\/aws\/sagemaker\/[A-Za-z]+:\*$/,
    reason: 'SageMaker creates one log stream per instance or job in its fixed /aws/sagemaker/<kind> group.',
  },
];

/** CloudWatch Logs and metrics as SageMaker writes them for the given kinds of jobs or endpoints. */
function addSageMakerLogging(role: iam.Role, stack: Stack, kinds: readonly string[]): void {
  role.addToPolicy(
    new iam.PolicyStatement({
      actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
      resources: kinds.flatMap((kind) => {
        const group = stack.formatArn({
          service: 'logs',
          resource: 'log-group',
          resourceName: `/aws/sagemaker/${kind}`,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        });
        return [group, `${group}:*`];
      }),
    }),
  );
  role.addToPolicy(
    new iam.PolicyStatement({
      actions: ['cloudwatch:PutMetricData'],
      resources: ['*'],
      conditions: { StringLike: { 'cloudwatch:namespace': ['/aws/sagemaker/*', 'aws/sagemaker/*'] } },
    }),
  );
}

/** What the pipeline's steps touch, granted per resource (docs/retraining.md's five steps). */
function grantJobs(
  role: iam.Role,
  stack: Stack,
  r: {
    config: StageConfig;
    data: DataResources;
    state: StateResources;
    bootstrapRead: (role: iam.IGrantable) => void;
  },
): void {
  const { data, state } = r;
  // Build: the training-set SQL on Athena over the lake, training_examples written back.
  data.lakeBucket.grantRead(role);
  data.lakeBucket.grantPut(role, `${tablePrefix('training_examples')}*`);
  data.athenaResultsBucket.grantReadWrite(role);
  role.addToPolicy(
    new iam.PolicyStatement({
      actions: [
        'athena:StartQueryExecution',
        'athena:GetQueryExecution',
        'athena:GetQueryResults',
        'athena:StopQueryExecution',
      ],
      resources: [
        stack.formatArn({ service: 'athena', resource: 'workgroup', resourceName: data.athenaWorkgroupName }),
      ],
    }),
  );
  role.addToPolicy(
    new iam.PolicyStatement({
      actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetTables', 'glue:GetPartition', 'glue:GetPartitions'],
      resources: [
        stack.formatArn({ service: 'glue', resource: 'catalog' }),
        stack.formatArn({ service: 'glue', resource: 'database', resourceName: data.glueDatabaseName }),
        stack.formatArn({ service: 'glue', resource: 'table', resourceName: `${data.glueDatabaseName}/*` }),
      ],
    }),
  );
  // Build (the champion, or the bootstrap when none), train, evaluate, register: the model bucket and the registry.
  state.modelBucket.grantReadWrite(role);
  state.tables.models.grantReadWriteData(role);
  r.bootstrapRead(role);
  data.key.grantEncryptDecrypt(role);
  addSageMakerLogging(role, stack, ['ProcessingJobs', 'TrainingJobs']);
}
