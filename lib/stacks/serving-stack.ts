import { Duration, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { ROUTES } from '../../lambdas/core/api/routes.js';
import type { StageConfig } from '../config.js';
import { lakeJobName } from '../constructs/lake/lake-jobs.js';
import { AdclickFunction, TIMEOUTS } from '../constructs/serving/adclick-function.js';
import {
  grantAthenaQueries,
  grantEndpointDeployment,
  grantFirehosePut,
  grantInvokeEndpoint,
  grantVariantAutoscaling,
  scalableTargetsArn,
  targetTrackingAlarmsArn,
} from '../constructs/serving/grants.js';
import { acknowledgeWildcardResources } from '../constructs/serving/nag-rendering.js';
import { AdclickRestApi, type GatewayRoute } from '../constructs/serving/rest-api.js';
import { ApiWebAcl } from '../constructs/serving/web-acl.js';
import type { DataResources, MlResources, ServingResources, StateResources } from './resources.js';

export interface ServingStackProps extends StackProps {
  readonly config: StageConfig;
  readonly data: DataResources;
  readonly state: StateResources;
  readonly ml: MlResources;
}

/** The API function also serves the OpenAPI document, which is not a route of the table. */
export const GATEWAY_ROUTES: readonly GatewayRoute[] = [
  ...ROUTES,
  { method: 'GET', path: '/openapi.json', operationId: 'openApiDocument', access: 'open' },
];

/** Routes the predict function serves; every other route goes to the API function. */
export const PREDICT_PATHS: ReadonlySet<string> = new Set(['/predict', '/predict/batch']);

/** How often the drift monitor checks (docs/drift.md): well inside its 6-hour window. */
export const DRIFT_CHECK_EVERY = Duration.minutes(15);

/** Stateless: REST API Gateway (keys, usage plans, IAM admin, WAF) and every Lambda function. */
export class ServingStack extends Stack implements ServingResources {
  readonly restApiName: string;
  readonly restApiId: string;
  readonly stageName: string;
  readonly functions: ServingResources['functions'];
  readonly invokeFailuresQueue: sqs.IQueue;

  constructor(scope: Construct, id: string, props: ServingStackProps) {
    super(scope, id, props);
    const { config, state, ml } = props;
    // The data stack's key, buckets and streams as views over the same ARNs with the key imported
    // by ARN: a grant on the real ones would write this stack's roles into the data stack's key
    // policy (a dependency cycle); the key policy lets IAM policies grant its use instead.
    const dataKey = kms.Key.fromKeyArn(this, 'DataKey', props.data.key.keyArn);
    const bucketView = (id: string, bucket: s3.IBucket) =>
      s3.Bucket.fromBucketAttributes(this, id, {
        bucketArn: bucket.bucketArn,
        bucketName: bucket.bucketName,
        encryptionKey: dataKey,
      });
    const streamView = (id: string, stream: kinesis.IStream) =>
      kinesis.Stream.fromStreamAttributes(this, id, { streamArn: stream.streamArn, encryptionKey: dataKey });
    const data: DataResources = {
      ...props.data,
      key: dataKey,
      lakeBucket: bucketView('LakeBucket', props.data.lakeBucket),
      athenaResultsBucket: bucketView('AthenaResultsBucket', props.data.athenaResultsBucket),
      eventStreams: {
        ad_impressions: streamView('ImpressionsStream', props.data.eventStreams.ad_impressions),
        clicks: streamView('ClicksStream', props.data.eventStreams.clicks),
        suspicious_events: streamView('SuspiciousEventsStream', props.data.eventStreams.suspicious_events),
      },
    };
    const { tables } = state;
    const retention = config.serving.logRetentionDays;
    const name = (fn: string) => `${config.prefix}-${fn}`;

    // Where failed stream batches' metadata and failed scheduled invokes go: an operator replays
    // from the source (the stream or the table), so SQS-managed encryption is enough here.
    const failures = new sqs.Queue(this, 'InvokeFailures', {
      queueName: name('invoke-failures'),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.invokeFailuresQueue = failures;
    Validations.of(failures).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself the on-failure destination of the stream consumers and the drift schedule; it holds failure records for an operator, nothing consumes it.',
    });
    Validations.of(failures).acknowledge({
      id: 'Serverless-SQSRedrivePolicy',
      reason: 'A dead-letter destination itself: there is no further queue to redrive to.',
    });

    const redisNetwork = { vpc: state.vpc, securityGroups: [state.redis.securityGroup] };
    // TLS (ElastiCache in-transit encryption); the AUTH token is read from its secret, never put here.
    const redisEnvironment = {
      ADCLICK_REDIS_URL: `rediss://${state.redis.host}:${state.redis.port}`,
      ADCLICK_REDIS_AUTH_SECRET_ARN: state.redis.authSecret.secretArn,
    };
    // Powertools' namespace: the monitoring stack's alarms read the functions' EMF metrics there.
    const telemetry = { POWERTOOLS_METRICS_NAMESPACE: config.metricsNamespace };
    const predictEnvironment = {
      ...telemetry,
      ADCLICK_PREDICTIONS_TABLE: tables.predictions.tableName,
      ADCLICK_MODELS_TABLE: tables.models.tableName,
      ADCLICK_EXPERIMENTS_TABLE: tables.experiments.tableName,
      ADCLICK_ADS_TABLE: tables.ads.tableName,
      ADCLICK_FEATURES_TABLE: tables.features.tableName,
      ADCLICK_MODEL_ENDPOINT: ml.endpointName,
      ADCLICK_PREDICTION_LOG_DLQ_URL: state.predictionLogDeadLetterQueue.queueUrl,
      ADCLICK_PSEUDONYMISATION_SECRET_ARN: state.pseudonymisationSecret.secretArn,
      ...redisEnvironment,
    };
    const modelDeployment = {
      ADCLICK_MODEL_ENDPOINT: ml.endpointName,
      ADCLICK_MODEL_IMAGE_URI: ml.imageUri,
      ADCLICK_MODEL_EXECUTION_ROLE_ARN: ml.executionRole.roleArn,
      ADCLICK_MODEL_INSTANCE_TYPE: config.model.instanceType,
      ADCLICK_MODEL_INSTANCE_COUNT: String(config.model.initialInstanceCount),
      // The variants the runtime adds scale as the ML stack scales its first one.
      ADCLICK_MODEL_MIN_INSTANCES: String(config.model.minInstances),
      ADCLICK_MODEL_MAX_INSTANCES: String(config.model.maxInstances),
      ADCLICK_MODEL_INVOCATIONS_PER_INSTANCE: String(config.model.invocationsPerInstancePerMinute),
    };
    const athena = {
      ADCLICK_ATHENA_WORKGROUP: data.athenaWorkgroupName,
      ADCLICK_ATHENA_DATABASE: data.glueDatabaseName,
    };
    const streams = {
      ADCLICK_IMPRESSIONS_STREAM: data.eventStreams.ad_impressions.streamName,
      ADCLICK_CLICKS_STREAM: data.eventStreams.clicks.streamName,
      ADCLICK_SUSPICIOUS_EVENTS_STREAM: data.eventStreams.suspicious_events.streamName,
    };
    const synchronous =
      'Invoked synchronously by API Gateway: the caller gets the error, there is no asynchronous event to park.';
    const polled =
      'Invoked by an event source mapping, whose on-failure destination (not a function DLQ) receives what fails.';

    // ------------------------------------------------------------ the ad server's hot path
    const predict = new AdclickFunction(this, 'Predict', {
      entry: 'predict',
      functionName: name('predict'),
      description: 'POST /predict and /predict/batch',
      environment: predictEnvironment,
      memoryMiB: config.serving.predictMemoryMiB,
      timeout: TIMEOUTS.predict,
      logRetentionDays: retention,
      network: redisNetwork,
      noDeadLetterQueueReason: synchronous,
    }).fn;
    for (const t of [tables.models, tables.experiments, tables.ads, tables.features]) t.grantReadData(predict);
    // The log's conditional put, and the read that answers a replayed request_id.
    tables.predictions.grantReadWriteData(predict);
    state.pseudonymisationSecret.grantRead(predict);
    state.redis.authSecret.grantRead(predict);
    grantInvokeEndpoint(predict, this, ml.endpointName);
    // The fallback copy of a model.
    state.modelBucket.grantRead(predict);
    state.predictionLogDeadLetterQueue.grantSendMessages(predict);
    const predictAlias = predict.addAlias('live', {
      ...(config.serving.predictProvisionedConcurrency > 0
        ? { provisionedConcurrentExecutions: config.serving.predictProvisionedConcurrency }
        : {}),
    });

    // ------------------------------------------------------------ every other route
    const api = new AdclickFunction(this, 'Api', {
      entry: 'api',
      functionName: name('api'),
      description: 'Every route but /predict*: events, ads, models, experiments, analytics, health',
      environment: {
        ...predictEnvironment,
        ...streams,
        ...modelDeployment,
        ...athena,
        ADCLICK_MODEL_BUCKET: state.modelBucket.bucketName,
      },
      memoryMiB: config.serving.apiMemoryMiB,
      timeout: TIMEOUTS.api,
      logRetentionDays: retention,
      network: redisNetwork,
      bundleSql: true,
      noDeadLetterQueueReason: synchronous,
    }).fn;
    for (const t of Object.values(tables)) t.grantReadWriteData(api);
    state.pseudonymisationSecret.grantRead(api);
    state.redis.authSecret.grantRead(api);
    grantInvokeEndpoint(api, this, ml.endpointName);
    grantEndpointDeployment(api, this, ml.endpointName, ml.executionRole);
    grantVariantAutoscaling(api, this, ml.endpointName);
    // Uploads are presigned PUTs signed with this role, completion reads them back.
    state.modelBucket.grantReadWrite(api);
    state.predictionLogDeadLetterQueue.grantSendMessages(api);
    for (const stream of Object.values(data.eventStreams)) stream.grantWrite(api);
    grantAthenaQueries(api, this, { workgroup: data.athenaWorkgroupName, database: data.glueDatabaseName });
    data.lakeBucket.grantRead(api);
    data.athenaResultsBucket.grantReadWrite(api);

    // ------------------------------------------------------------ erasure (DELETE /users/{user_id})
    // The API records an erasure and answers 202; the worker, every minute, runs what is
    // unfinished: the prediction log, the counters, and the lake's Glue rewrite job per table.
    let erasureWorker: lambda.Function | undefined;
    if (state.erasuresTable) {
      const erasureEnvironment = {
        ADCLICK_ERASURES_TABLE: state.erasuresTable.tableName,
        ADCLICK_ERASURE_JOB: lakeJobName(config.prefix, 'rewritePartition'),
        ADCLICK_LAKE_BUCKET: data.lakeBucket.bucketName,
        // The rewrite waits out the delivery streams' buffer, so nothing acknowledged before the
        // erasure lands in the lake after it.
        ADCLICK_ERASURE_LAKE_DELAY_SECONDS: String(config.lake.firehoseBufferInterval.toSeconds() + 60),
      };
      for (const [key, value] of Object.entries(erasureEnvironment)) api.addEnvironment(key, value);
      state.erasuresTable.grantReadWriteData(api);
      erasureWorker = new AdclickFunction(this, 'ErasureWorker', {
        entry: 'erasure-worker',
        functionName: name('erasure-worker'),
        description: 'Scheduled: runs the recorded user erasures (prediction log, counters, Glue lake rewrite)',
        environment: {
          ...predictEnvironment,
          ...streams,
          ...modelDeployment,
          ...athena,
          ADCLICK_MODEL_BUCKET: state.modelBucket.bucketName,
          ...erasureEnvironment,
        },
        memoryMiB: 512,
        timeout: TIMEOUTS.driftMonitor,
        logRetentionDays: retention,
        network: redisNetwork,
        bundleSql: true,
        // One at a time: two workers would run the same erasure twice.
        reservedConcurrentExecutions: 1,
        deadLetterQueue: failures,
      }).fn;
      for (const t of [tables.predictions, tables.features, tables.models, tables.experiments, tables.ads])
        t.grantReadWriteData(erasureWorker);
      state.erasuresTable.grantReadWriteData(erasureWorker);
      state.pseudonymisationSecret.grantRead(erasureWorker);
      state.redis.authSecret.grantRead(erasureWorker);
      state.modelBucket.grantRead(erasureWorker);
      grantAthenaQueries(erasureWorker, this, { workgroup: data.athenaWorkgroupName, database: data.glueDatabaseName });
      data.lakeBucket.grantRead(erasureWorker);
      data.athenaResultsBucket.grantReadWrite(erasureWorker);
      erasureWorker.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['glue:StartJobRun', 'glue:GetJobRun'],
          resources: [
            this.formatArn({
              service: 'glue',
              resource: 'job',
              resourceName: lakeJobName(config.prefix, 'rewritePartition'),
            }),
          ],
        }),
      );
      new events.Rule(this, 'ErasureSchedule', {
        description: 'Runs the erasure worker',
        schedule: events.Schedule.rate(Duration.minutes(1)),
        targets: [new targets.LambdaFunction(erasureWorker, { retryAttempts: 0, deadLetterQueue: failures })],
      });
    }

    // ------------------------------------------------------------ stream consumers
    const kinesisSource = (
      stream: (typeof data.eventStreams)['clicks'],
      batchSize: number,
      position: lambda.StartingPosition,
    ) =>
      new sources.KinesisEventSource(stream, {
        startingPosition: position,
        batchSize,
        maxBatchingWindow: Duration.seconds(1),
        reportBatchItemFailures: true,
        // Replays must start at the reported sequence number, one batch of a shard at a time
        // (lambdas/handlers/README.md): no bisection, no parallelisation, retried until it
        // succeeds (a dropped record would be a count lost; the iterator age alarm watches).
        bisectBatchOnError: false,
        parallelizationFactor: 1,
        onFailure: new sources.SqsDlq(failures),
      });

    const featureCounters = new AdclickFunction(this, 'FeatureCounters', {
      entry: 'feature-counters',
      functionName: name('feature-counters'),
      description: 'Counts impressions and clicks per user and ad, exactly once (DynamoDB, Redis)',
      environment: { ...telemetry, ADCLICK_FEATURES_TABLE: tables.features.tableName, ...redisEnvironment },
      memoryMiB: 512,
      timeout: TIMEOUTS.consumer,
      logRetentionDays: retention,
      network: redisNetwork,
      noDeadLetterQueueReason: polled,
    }).fn;
    tables.features.grantReadWriteData(featureCounters);
    state.redis.authSecret.grantRead(featureCounters);
    for (const stream of [data.eventStreams.ad_impressions, data.eventStreams.clicks]) {
      featureCounters.addEventSource(kinesisSource(stream, 500, lambda.StartingPosition.TRIM_HORIZON));
    }

    const fraudConsumer = new AdclickFunction(this, 'FraudConsumer', {
      entry: 'fraud-consumer',
      functionName: name('fraud-consumer'),
      description: 'Click fraud rules over the impression and click streams (a singleton)',
      environment: { ...telemetry, ...streams },
      memoryMiB: 1024,
      timeout: TIMEOUTS.consumer,
      logRetentionDays: retention,
      // Its rate rules keep state in memory: one instance must see every event.
      reservedConcurrentExecutions: 1,
      noDeadLetterQueueReason: polled,
    }).fn;
    data.eventStreams.suspicious_events.grantWrite(fraudConsumer);
    for (const stream of [data.eventStreams.ad_impressions, data.eventStreams.clicks]) {
      // History is the lake's: a new consumer starts with today's traffic.
      fraudConsumer.addEventSource(kinesisSource(stream, 1000, lambda.StartingPosition.LATEST));
    }

    const predictionLogStream = new AdclickFunction(this, 'PredictionLogStream', {
      entry: 'prediction-log-stream',
      functionName: name('prediction-log-stream'),
      description: 'The prediction log stream into the model_predictions Firehose',
      environment: { ...telemetry, ADCLICK_PREDICTIONS_FIREHOSE: data.predictionsDeliveryStream.name },
      memoryMiB: 256,
      timeout: TIMEOUTS.consumer,
      logRetentionDays: retention,
      noDeadLetterQueueReason: polled,
    }).fn;
    grantFirehosePut(predictionLogStream, data.predictionsDeliveryStream.arn);
    predictionLogStream.addEventSource(
      new sources.DynamoEventSource(tables.predictions, {
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: 1000,
        maxBatchingWindow: Duration.seconds(5),
        reportBatchItemFailures: true,
        bisectBatchOnError: true,
        retryAttempts: 10,
        maxRecordAge: Duration.hours(24),
        onFailure: new sources.SqsDlq(failures),
        // TTL deletions are not predictions.
        filters: [lambda.FilterCriteria.filter({ eventName: lambda.FilterRule.isEqual('INSERT') })],
      }),
    );

    const predictionLogRedrive = new AdclickFunction(this, 'PredictionLogRedrive', {
      entry: 'prediction-log-redrive',
      functionName: name('prediction-log-redrive'),
      description: 'Writes parked prediction log items once DynamoDB accepts them again',
      environment: { ...telemetry, ADCLICK_PREDICTIONS_TABLE: tables.predictions.tableName },
      memoryMiB: 256,
      timeout: TIMEOUTS.redrive,
      logRetentionDays: retention,
      noDeadLetterQueueReason: 'Its SQS source queue has its own redrive policy to a poison queue.',
    }).fn;
    tables.predictions.grantReadWriteData(predictionLogRedrive);
    predictionLogRedrive.addEventSource(
      new sources.SqsEventSource(state.predictionLogDeadLetterQueue, {
        batchSize: 10,
        maxBatchingWindow: Duration.seconds(10),
        reportBatchItemFailures: true,
        // Small: the redrive must not add load to a table that is throttling.
        maxConcurrency: 2,
      }),
    );

    // ------------------------------------------------------------ drift monitor
    const driftMonitor = new AdclickFunction(this, 'DriftMonitor', {
      entry: 'drift-monitor',
      functionName: name('drift-monitor'),
      description: 'Scheduled drift check: rolls back a drifting champion, stops losing experiments',
      environment: {
        ...telemetry,
        ADCLICK_MODELS_TABLE: tables.models.tableName,
        ADCLICK_EXPERIMENTS_TABLE: tables.experiments.tableName,
        ...athena,
        ...modelDeployment,
      },
      memoryMiB: 256,
      timeout: TIMEOUTS.driftMonitor,
      logRetentionDays: retention,
      bundleSql: true,
      // Two overlapping checks could both act on the same evidence.
      reservedConcurrentExecutions: 1,
      deadLetterQueue: failures,
    }).fn;
    tables.models.grantReadWriteData(driftMonitor);
    tables.experiments.grantReadWriteData(driftMonitor);
    grantAthenaQueries(driftMonitor, this, { workgroup: data.athenaWorkgroupName, database: data.glueDatabaseName });
    data.lakeBucket.grantRead(driftMonitor);
    data.athenaResultsBucket.grantReadWrite(driftMonitor);
    grantEndpointDeployment(driftMonitor, this, ml.endpointName, ml.executionRole);
    grantVariantAutoscaling(driftMonitor, this, ml.endpointName);
    new events.Rule(this, 'DriftSchedule', {
      description: 'Runs the drift monitor',
      schedule: events.Schedule.rate(DRIFT_CHECK_EVERY),
      targets: [
        new targets.LambdaFunction(driftMonitor, {
          retryAttempts: 2,
          // A retry older than the next tick is pointless.
          maxEventAge: DRIFT_CHECK_EVERY,
          deadLetterQueue: failures,
        }),
      ],
    });

    // ------------------------------------------------------------ the API
    this.restApiName = name('api');
    this.stageName = 'v1';
    const rest = new AdclickRestApi(this, 'Rest', {
      restApiName: this.restApiName,
      stageName: this.stageName,
      routes: GATEWAY_ROUTES,
      handlerOf: (route) => (PREDICT_PATHS.has(route.path) ? predictAlias : api),
      rateLimit: config.serving.adServerRateLimit,
      burstLimit: config.serving.adServerBurstLimit,
      accessLogRetentionDays: retention,
    });
    this.restApiId = rest.api.restApiId;
    new ApiWebAcl(this, 'Waf', {
      name: this.restApiName,
      requestsPer5MinPerIp: config.serving.wafRequestsPer5MinPerIp,
      stageArn: rest.api.deploymentStage.stageArn,
    });

    // Wildcards the construct library's grants write, each within one named bucket, database or name prefix.
    const s3Reason =
      'Object-level S3 actions of a bucket grant (GetObject*, List*, Abort* ...) on that one bucket and its keys: artifacts, lake partitions and query results have keys made at run time.';
    const s3Actions = ['GetBucket*', 'GetObject*', 'List*', 'Abort*', 'DeleteObject*'].map(
      (a) => `AwsSolutions-IAM5[Action::s3:${a}]`,
    );
    const s3Wildcards: [lambda.IFunction, s3.IBucket[]][] = [
      [predict, [state.modelBucket]],
      [api, [state.modelBucket, data.lakeBucket, data.athenaResultsBucket]],
      [driftMonitor, [data.lakeBucket, data.athenaResultsBucket]],
      ...(erasureWorker
        ? [
            [erasureWorker, [state.modelBucket, data.lakeBucket, data.athenaResultsBucket]] as [
              lambda.IFunction,
              s3.IBucket[],
            ],
          ]
        : []),
    ];
    for (const [fn, buckets] of s3Wildcards) {
      acknowledgeOnRole(fn, s3Reason, s3Actions);
      acknowledgeWildcardResources(
        fn.role ?? fn,
        buckets.map((b) => `${b.bucketArn}/*`),
        s3Reason,
      );
    }
    // The prediction log's by_user index (erasure): a table grant covers its indexes.
    for (const fn of [predict, api, predictionLogRedrive, ...(erasureWorker ? [erasureWorker] : [])])
      acknowledgeWildcardResources(
        fn.role ?? fn,
        [`${tables.predictions.tableArn}/index/*`],
        "The table grant's own scope: the prediction log's indexes (by_user, which an erasure queries).",
      );
    if (erasureWorker)
      acknowledgeWildcardResources(
        erasureWorker.role ?? erasureWorker,
        [this.formatArn({ service: 'glue', resource: 'table', resourceName: `${data.glueDatabaseName}/*` })],
        "Athena reads the tables of one Glue database (the lake): the erasure worker's query finds the partitions holding a user.",
      );
    const sageMakerArn = (resource: string, name: string) =>
      this.formatArn({ service: 'sagemaker', resource, resourceName: name });
    const endpoint = ml.endpointName.toLowerCase();
    for (const fn of [api, driftMonitor]) {
      acknowledgeWildcardResources(
        fn.role ?? fn,
        [
          this.formatArn({ service: 'glue', resource: 'table', resourceName: `${data.glueDatabaseName}/*` }),
          sageMakerArn('model', 'adclick-*'),
          sageMakerArn('endpoint-config', 'adclick-*'),
          sageMakerArn('model', `${endpoint}-*`),
          sageMakerArn('endpoint-config', `${endpoint}-*`),
        ],
        'Athena reads the tables of one Glue database (the lake), and the models and endpoint configs an activation or rollback creates are named at run time under the endpoint name (or adclick- when that is too long).',
      );
      acknowledgeWildcardResources(
        fn.role ?? fn,
        [scalableTargetsArn(this), targetTrackingAlarmsArn(this, ml.endpointName)],
        'Application Auto Scaling names a scalable target by a random id, not by the variant it scales, so registering and deregistering the variants an activation adds or drops can be scoped to this account and region only; the alarms are those its target-tracking policies create, named TargetTracking-endpoint/<this endpoint>/variant/<variant made at run time>-….',
      );
      Validations.of(fn.role ?? fn).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'application-autoscaling:DescribeScalableTargets and DescribeScalingPolicies support no resource-level permissions (read-only; the calls name the variant resource ids).',
      });
    }
    Validations.of(predictionLogRedrive).acknowledge({
      id: 'Serverless-LambdaEventSourceMappingDestination',
      reason:
        'SQS event sources take no on-failure destination: the source queue redrives a message that keeps failing to its poison queue after 10 receives.',
    });

    this.functions = {
      predict,
      api,
      featureCounters,
      fraudConsumer,
      predictionLogStream,
      predictionLogRedrive,
      driftMonitor,
    };
  }
}

function acknowledgeOnRole(fn: lambda.IFunction, reason: string, ids: readonly string[]): void {
  for (const id of ids) Validations.of(fn.role ?? fn).acknowledge({ id, reason });
}
