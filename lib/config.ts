/**
 * Typed configuration per stage, passed down to every stack as props. No lookups: synth needs no
 * account or credentials, and a stage's whole shape is reviewable here.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';

export type StageName = 'dev' | 'prod';

/** What the stage must carry: the capacity report sizes everything from these. */
export interface StageTargets {
  /** Peak predictions a second (each `/predict` call or each ad of a `/predict/batch`). */
  readonly predictionsPerSecond: number;
  /** Ads scored per `/predict/batch` call on average (1 when ad servers call `/predict`). */
  readonly adsPerPredictRequest: number;
  /** Impressions and clicks a day, all event tables together. */
  readonly eventsPerDay: number;
  /** Peak-to-average ratio of the event rate. */
  readonly eventPeakFactor: number;
  /** Bytes of one event as sent (JSON) and as stored. */
  readonly eventBytes: number;
  /** Events per `/event/batch` call on average. */
  readonly eventsPerRequest: number;
  /** Time a warm predict invocation takes, for Lambda concurrency (Little's law). */
  readonly predictLatencyMs: number;
  /** Time a warm `/event/batch` invocation takes (validation + one Kinesis PutRecords), for Little's law. */
  readonly eventRequestLatencyMs: number;
  /** Clicks per impression: splits `eventsPerDay` between the `ad_impressions` and `clicks` streams. */
  readonly clickThroughRate: number;
  /** Share of events the fraud rules flag onto the `suspicious_events` stream. */
  readonly suspiciousEventShare: number;
  /** Bytes of one prediction log item (ids, probability, feature snapshot): DynamoDB units and Firehose MiB/s. */
  readonly predictionItemBytes: number;
}

export interface StageConfig {
  readonly stage: StageName;
  /** Prefix of every physical name (tables, streams, endpoint): `adclick-<stage>`. */
  readonly prefix: string;
  /**
   * CloudWatch namespace of the functions' EMF metrics (Powertools `POWERTOOLS_METRICS_NAMESPACE`):
   * the serving stack sets it, the monitoring stack's fallback-rate alarm reads it.
   */
  readonly metricsNamespace: string;
  /** Stateful resources: kept on stack deletion in prod, destroyed in dev. */
  readonly removalPolicy: RemovalPolicy;
  readonly targets: StageTargets;
  readonly lake: {
    /** DESIGN.md "Data": raw events and model_predictions 400 days, training_examples 90, Athena results 7. */
    readonly eventRetentionDays: number;
    readonly trainingExamplesRetentionDays: number;
    readonly athenaResultsRetentionDays: number;
    /** Athena stops a query past this many bytes scanned. */
    readonly athenaBytesScannedCutoff: number;
    /** Firehose buffering before a Parquet object is written. */
    readonly firehoseBufferInterval: Duration;
    readonly firehoseBufferMiB: number;
  };
  readonly serving: {
    /** ElastiCache node type and replicas per shard (≥ 1 for multi-AZ failover). */
    readonly redisNodeType: string;
    readonly redisReplicas: number;
    /** Provisioned concurrency of the predict function (0: none). */
    readonly predictProvisionedConcurrency: number;
    readonly predictMemoryMiB: number;
    readonly apiMemoryMiB: number;
    /** Ad servers' usage plan: steady requests a second and burst. */
    readonly adServerRateLimit: number;
    readonly adServerBurstLimit: number;
    /** WAF rate-based rule: requests per 5 minutes per client IP. */
    readonly wafRequestsPer5MinPerIp: number;
    readonly logRetentionDays: number;
    readonly maxAzs: number;
  };
  readonly model: {
    readonly instanceType: string;
    /** Instances of the serving variant at deploy (≥ 2 in prod: one per AZ). */
    readonly initialInstanceCount: number;
    readonly minInstances: number;
    readonly maxInstances: number;
    /** Autoscaling target: invocations per instance per minute. */
    readonly invocationsPerInstancePerMinute: number;
    readonly trainingInstanceType: string;
    readonly processingInstanceType: string;
    /** Daily retraining (EventBridge cron, UTC). */
    readonly retrainCron: { readonly minute: string; readonly hour: string };
  };
  readonly alarms: {
    /** Predict p99 latency alarm, ms (API Gateway latency). */
    readonly predictP99Ms: number;
    /** Share of predictions served by the fallback copy that raises an alarm. */
    readonly fallbackRate: number;
    /** Kinesis consumers: iterator age alarm, ms. */
    readonly iteratorAgeMs: number;
    /** Firehose: data freshness alarm, seconds. */
    readonly firehoseFreshnessSeconds: number;
    /** SageMaker ModelLatency alarm (average over the endpoint's variants), ms: the call's share of the predict budget. */
    readonly modelLatencyMs: number;
    /** Share of requests answered 5xx (API Gateway per route, Lambda errors per function) that raises an alarm. */
    readonly serverErrorRate: number;
  };
}

const base = (stage: StageName) => ({ stage, prefix: `adclick-${stage}`, metricsNamespace: `adclick-${stage}` });

export const STAGES: Readonly<Record<StageName, StageConfig>> = {
  dev: {
    ...base('dev'),
    removalPolicy: RemovalPolicy.DESTROY,
    targets: {
      predictionsPerSecond: 200,
      adsPerPredictRequest: 1,
      eventsPerDay: 10_000_000,
      eventPeakFactor: 3,
      eventBytes: 1_000,
      eventsPerRequest: 100,
      predictLatencyMs: 20,
      eventRequestLatencyMs: 30,
      clickThroughRate: 0.01,
      suspiciousEventShare: 0.001,
      predictionItemBytes: 1_000,
    },
    lake: {
      eventRetentionDays: 400,
      trainingExamplesRetentionDays: 90,
      athenaResultsRetentionDays: 7,
      athenaBytesScannedCutoff: 100 * 1024 ** 3,
      firehoseBufferInterval: Duration.seconds(300),
      firehoseBufferMiB: 64,
    },
    serving: {
      redisNodeType: 'cache.t4g.small',
      redisReplicas: 1,
      predictProvisionedConcurrency: 0,
      predictMemoryMiB: 1024,
      apiMemoryMiB: 1024,
      adServerRateLimit: 500,
      adServerBurstLimit: 1_000,
      wafRequestsPer5MinPerIp: 100_000,
      logRetentionDays: 30,
      maxAzs: 2,
    },
    model: {
      instanceType: 'ml.c6g.large',
      initialInstanceCount: 1,
      minInstances: 1,
      maxInstances: 2,
      invocationsPerInstancePerMinute: 30_000,
      trainingInstanceType: 'ml.m5.xlarge',
      processingInstanceType: 'ml.m5.large',
      retrainCron: { minute: '0', hour: '3' },
    },
    alarms: {
      predictP99Ms: 50,
      fallbackRate: 0.01,
      iteratorAgeMs: 60_000,
      firehoseFreshnessSeconds: 900,
      modelLatencyMs: 30,
      serverErrorRate: 0.01,
    },
  },
  prod: {
    ...base('prod'),
    removalPolicy: RemovalPolicy.RETAIN,
    // DESIGN.md "Numbers it is built for".
    targets: {
      predictionsPerSecond: 100_000,
      adsPerPredictRequest: 10,
      eventsPerDay: 10_000_000_000,
      eventPeakFactor: 3,
      eventBytes: 1_000,
      eventsPerRequest: 100,
      predictLatencyMs: 20,
      eventRequestLatencyMs: 30,
      clickThroughRate: 0.01,
      suspiciousEventShare: 0.001,
      predictionItemBytes: 1_000,
    },
    lake: {
      eventRetentionDays: 400,
      trainingExamplesRetentionDays: 90,
      athenaResultsRetentionDays: 7,
      athenaBytesScannedCutoff: 1024 ** 4,
      firehoseBufferInterval: Duration.seconds(300),
      firehoseBufferMiB: 128,
    },
    serving: {
      redisNodeType: 'cache.r7g.large',
      redisReplicas: 2,
      predictProvisionedConcurrency: 50,
      predictMemoryMiB: 1769,
      apiMemoryMiB: 1024,
      adServerRateLimit: 10_000,
      adServerBurstLimit: 5_000,
      wafRequestsPer5MinPerIp: 2_000_000,
      logRetentionDays: 90,
      maxAzs: 3,
    },
    model: {
      instanceType: 'ml.c6g.xlarge',
      initialInstanceCount: 2,
      minInstances: 2,
      maxInstances: 20,
      invocationsPerInstancePerMinute: 60_000,
      trainingInstanceType: 'ml.m5.4xlarge',
      processingInstanceType: 'ml.m5.xlarge',
      retrainCron: { minute: '0', hour: '3' },
    },
    alarms: {
      predictP99Ms: 50,
      fallbackRate: 0.01,
      iteratorAgeMs: 60_000,
      firehoseFreshnessSeconds: 900,
      modelLatencyMs: 30,
      serverErrorRate: 0.01,
    },
  },
};

/** The stage named by `-c stage=…` (default dev); an unknown name fails synth naming the known ones. */
export function stageConfig(name: unknown): StageConfig {
  const stage = name ?? 'dev';
  if (stage !== 'dev' && stage !== 'prod') {
    throw new Error(`Unknown stage ${JSON.stringify(stage)}: use -c stage=dev or -c stage=prod.`);
  }
  return STAGES[stage];
}
