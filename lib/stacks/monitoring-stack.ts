import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import { ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as sns from 'aws-cdk-lib/aws-sns';
import {
  type CustomMetricWithAlarm,
  DefaultDashboardFactory,
  LatencyType,
  MonitoringFacade,
  notifySns,
} from 'cdk-monitoring-constructs';
import type { Construct } from 'constructs';
import type { StageConfig } from '../config.js';
import { AlarmTopic } from '../constructs/monitoring/alarm-topic.js';
import { fallbackRate } from '../constructs/monitoring/emf-metrics.js';
import {
  apiServerErrorShare,
  firehoseDataFreshness,
  lambdaErrorShare,
  sageMakerEndpointMetric,
} from '../constructs/monitoring/service-metrics.js';
import { SloBurnRateAlarms } from '../constructs/monitoring/slo-burn-rate.js';
import type { DataResources, MlResources, ServingResources, StateResources } from './resources.js';

export interface MonitoringStackProps extends StackProps {
  readonly config: StageConfig;
  readonly data: DataResources;
  readonly state: StateResources;
  readonly ml: MlResources;
  readonly serving: ServingResources;
}

/** The ad servers' routes: p99 latency matters on predict, the 5xx share on all of them. */
const AD_SERVER_ROUTES = [
  { method: 'POST', resource: '/predict', latency: true },
  { method: 'POST', resource: '/predict/batch', latency: true },
  { method: 'POST', resource: '/event/impression', latency: false },
  { method: 'POST', resource: '/event/click', latency: false },
  { method: 'POST', resource: '/event/batch', latency: false },
] as const;

/** Functions fed by a stream (Kinesis or the prediction log's DynamoDB stream): IteratorAge applies. */
const STREAM_CONSUMERS = new Set<keyof ServingResources['functions']>([
  'featureCounters',
  'fraudConsumer',
  'predictionLogStream',
]);

/** The CloudWatch dashboard and alarms of the whole system. */
export class MonitoringStack extends Stack {
  readonly alarmTopic: sns.ITopic;
  readonly monitoring: MonitoringFacade;

  constructor(scope: Construct, id: string, props: MonitoringStackProps) {
    super(scope, id, props);
    const { config, data, state, ml, serving } = props;
    const a = config.alarms;

    this.alarmTopic = new AlarmTopic(this, 'Alarms', { displayName: `${config.prefix} alarms` }).topic;
    const facade = new MonitoringFacade(this, 'Monitoring', {
      // One-minute datapoints: the predict path's budget is milliseconds, its alarms should be minutes.
      metricFactoryDefaults: { period: Duration.minutes(1) },
      alarmFactoryDefaults: {
        alarmNamePrefix: config.prefix,
        actionsEnabled: true,
        action: notifySns(this.alarmTopic, this.alarmTopic),
        // Three bad minutes out of five: one slow minute (a deploy, a cold start burst) is not a page.
        evaluationPeriods: 5,
        datapointsToAlarm: 3,
      },
      dashboardFactory: new DefaultDashboardFactory(this, 'Dashboards', {
        dashboardNamePrefix: config.prefix,
        createDashboard: true,
        createSummaryDashboard: false,
        createAlarmDashboard: false,
      }),
    });
    this.monitoring = facade;

    // API Gateway: the whole API, then each ad-server route (per-method metrics need the stage's
    // detailed metrics, which the serving stack turns on).
    const api = apigateway.RestApi.fromRestApiAttributes(this, 'Api', {
      restApiId: serving.restApiId,
      restApiName: serving.restApiName,
      // Never read: only the API's metrics are used here.
      rootResourceId: serving.restApiId,
    });
    facade.addLargeHeader(`${config.prefix}: predict path`);
    facade.monitorApiGateway({
      api,
      apiStage: serving.stageName,
      alarmFriendlyName: 'Api',
      humanReadableName: 'REST API',
    });
    for (const route of AD_SERVER_ROUTES) {
      const name = alarmName(`Api ${route.method} ${route.resource}`);
      if (route.latency) {
        facade.monitorApiGateway({
          api,
          apiStage: serving.stageName,
          apiMethod: route.method,
          apiResource: route.resource,
          alarmFriendlyName: name,
          humanReadableName: `${route.method} ${route.resource}`,
          latencyTypesToRender: [LatencyType.P50, LatencyType.P99],
          addLatencyP99Alarm: { Critical: { maxLatency: Duration.millis(a.predictP99Ms) } },
        });
      }
    }
    const apiErrorShares: CustomMetricWithAlarm[] = AD_SERVER_ROUTES.map((route) => ({
      metric: apiServerErrorShare({
        apiName: serving.restApiName,
        stage: serving.stageName,
        method: route.method,
        resource: route.resource,
      }),
      alarmFriendlyName: alarmName(`Api ${route.method} ${route.resource} 5xx share`),
      addAlarm: { Critical: aboveThreshold(a.serverErrorRate) },
    }));

    // The availability SLO of the predict path (99.99 %, docs/OPERATIONS.md): error-budget burn
    // rate over two window pairs, a page for a fast burn and a ticket for a slow one.
    new SloBurnRateAlarms(this, 'PredictSlo', {
      apiName: serving.restApiName,
      stage: serving.stageName,
      routes: AD_SERVER_ROUTES.filter((r) => r.resource.startsWith('/predict')),
      alarmNamePrefix: config.prefix,
      action: new SnsAction(this.alarmTopic),
    });

    // Fallback rate: the predict function's own EMF metric against its request count.
    const fallback: CustomMetricWithAlarm = {
      metric: fallbackRate({ namespace: config.metricsNamespace, adsPerBatch: config.targets.adsPerPredictRequest }),
      alarmFriendlyName: 'Predict fallback rate',
      addAlarm: { Critical: aboveThreshold(a.fallbackRate) },
    };
    facade.monitorCustom({
      alarmFriendlyName: 'Ad server routes',
      humanReadableName: 'Ad-server routes: 5xx share and fallback rate',
      metricGroups: [
        { title: '5xx share per route', metrics: apiErrorShares },
        { title: 'Predictions served by the fallback copy', metrics: [fallback] },
      ],
    });

    // SageMaker endpoint, all variants together (ModelLatency is in microseconds).
    facade.monitorCustom({
      alarmFriendlyName: 'Model endpoint',
      humanReadableName: `SageMaker endpoint ${ml.endpointName}`,
      metricGroups: [
        {
          title: 'Model latency (µs)',
          metrics: [
            {
              metric: sageMakerEndpointMetric(ml.endpointName, 'ModelLatency', 'AVG'),
              alarmFriendlyName: 'Model latency',
              addAlarm: { Critical: aboveThreshold(a.modelLatencyMs * 1000) },
            },
          ],
        },
        {
          title: 'Invocation 5xx errors',
          metrics: [
            {
              metric: sageMakerEndpointMetric(ml.endpointName, 'Invocation5XXErrors', 'SUM'),
              alarmFriendlyName: 'Model 5xx',
              addAlarm: { Critical: aboveThreshold(0) },
            },
          ],
        },
      ],
    });

    // Lambda: error share and throttles for every function; iterator age for stream consumers.
    facade.addLargeHeader(`${config.prefix}: functions`);
    for (const [key, fn] of Object.entries(serving.functions) as [
      keyof ServingResources['functions'],
      typeof serving.functions.predict,
    ][]) {
      const consumer = STREAM_CONSUMERS.has(key);
      facade.monitorLambdaFunction({
        lambdaFunction: fn,
        alarmFriendlyName: `Fn ${key}`,
        humanReadableName: key,
        isIterator: consumer,
        addThrottlesCountAlarm: { Critical: { maxErrorCount: 0 } },
        ...(consumer ? { addMaxIteratorAgeAlarm: { Critical: { maxAgeInMillis: a.iteratorAgeMs } } } : {}),
      });
    }
    facade.monitorCustom({
      alarmFriendlyName: 'Function errors',
      humanReadableName: 'Function error share',
      metricGroups: [
        {
          title: 'Errors / invocations',
          metrics: Object.entries(serving.functions).map(([key, fn]) => ({
            metric: lambdaErrorShare(fn, key),
            alarmFriendlyName: `Fn ${key} error share`,
            addAlarm: { Critical: aboveThreshold(a.serverErrorRate) },
          })),
        },
      ],
    });

    // State: DynamoDB throttles per table, the prediction log's dead-letter queue.
    facade.addLargeHeader(`${config.prefix}: state and lake`);
    for (const [key, table] of Object.entries(state.tables)) {
      facade.monitorDynamoTable({
        table,
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        alarmFriendlyName: `Table ${key}`,
        humanReadableName: `DynamoDB ${key}`,
        addReadThrottledEventsCountAlarm: { Critical: { maxThrottledEventsThreshold: 0 } },
        addWriteThrottledEventsCountAlarm: { Critical: { maxThrottledEventsThreshold: 0 } },
      });
    }
    facade.monitorSqsQueue({
      queue: state.predictionLogDeadLetterQueue,
      alarmFriendlyName: 'Prediction log DLQ',
      humanReadableName: 'Prediction log dead-letter queue',
      // Any message here is a prediction not yet in the log: redrive is automatic, but a growing
      // queue means DynamoDB keeps refusing.
      addQueueMaxSizeAlarm: { Critical: { maxMessageCount: 0, datapointsToAlarm: 1, evaluationPeriods: 1 } },
    });
    // Nothing consumes these two: any message is a record an operator must replay (OPERATIONS.md).
    for (const [queue, friendly, human] of [
      [state.predictionLogPoisonQueue, 'Prediction log poison queue', 'Prediction log writes the redrive gave up on'],
      [serving.invokeFailuresQueue, 'Invoke failures', 'Failed stream batches and scheduled invokes'],
    ] as const) {
      facade.monitorSqsQueue({
        queue,
        alarmFriendlyName: friendly,
        humanReadableName: human,
        addQueueMaxSizeAlarm: { Critical: { maxMessageCount: 0, datapointsToAlarm: 1, evaluationPeriods: 1 } },
      });
    }

    // Lake: write throttling on the event streams, delivery freshness of every Firehose.
    for (const [table, stream] of Object.entries(data.eventStreams)) {
      facade.monitorKinesisDataStream({
        streamName: stream.streamName,
        alarmFriendlyName: `Stream ${table}`,
        humanReadableName: `Kinesis ${table}`,
        addPutRecordsThrottledAlarm: { Critical: { maxRecordsThrottledThreshold: 0 } },
      });
    }
    const deliveryStreams = [
      ...Object.entries(data.eventDeliveryStreamNames ?? {}).map(([table, name]) => ({ table, name })),
      { table: 'model_predictions', name: data.predictionsDeliveryStream.name },
    ];
    facade.monitorCustom({
      alarmFriendlyName: 'Lake delivery',
      humanReadableName: 'Firehose delivery to S3',
      metricGroups: [
        {
          title: 'Data freshness (s)',
          metrics: deliveryStreams.map(({ table, name }) => ({
            metric: firehoseDataFreshness(name),
            alarmFriendlyName: `Firehose ${table} freshness`,
            addAlarm: {
              Critical: aboveThreshold(a.firehoseFreshnessSeconds, { evaluationPeriods: 1, datapointsToAlarm: 1 }),
            },
          })),
        },
      ],
    });
  }
}

/** Alarm names readable in a notification subject: words joined by dashes. */
function alarmName(words: string): string {
  return words.replace(/[^A-Za-z0-9]+/g, '-').replace(/-$/, '');
}

/** A threshold alarm that stays OK when the metric is missing (idle: no traffic, no datapoint). */
function aboveThreshold(threshold: number, overrides: { evaluationPeriods?: number; datapointsToAlarm?: number } = {}) {
  return {
    threshold,
    comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
    treatMissingDataOverride: TreatMissingData.NOT_BREACHING,
    ...overrides,
  };
}
