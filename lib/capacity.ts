/**
 * The capacity report: what a stage's targets (lib/config.ts) ask of each service, and which default
 * AWS quotas they exceed. A pure function of the configuration, so the arithmetic is unit-tested and
 * the same figures feed the README's cost estimate; bin/app.ts prints it at synth (to stderr, so
 * `cdk synth`'s template on stdout stays valid).
 */
import type { StageConfig } from './config.js';

export interface CapacityRow {
  readonly area: string;
  readonly figure: string;
  readonly value: number;
  readonly unit: string;
  /** How the value was derived. */
  readonly how: string;
}

export interface CapacityWarning {
  readonly quota: string;
  readonly needed: number;
  readonly limit: number;
  readonly advice: string;
  /** Where the default is documented. */
  readonly source: string;
}

export interface CapacityReport {
  readonly stage: string;
  readonly rows: readonly CapacityRow[];
  readonly warnings: readonly CapacityWarning[];
}

const MiB = 1024 * 1024;
const SECONDS_A_DAY = 86_400;

/**
 * Default quotas (us-east-1, 2026) with their documentation pages. Defaults, not hard limits: most
 * can be raised through Service Quotas, which is what each warning's advice says to do first.
 */
export const QUOTAS = {
  apiGatewayRps: {
    limit: 10_000,
    source:
      'https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html (throttle quota per account per Region)',
  },
  lambdaConcurrency: {
    limit: 1_000,
    source: 'https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html (concurrent executions)',
  },
  dynamoOnDemandTableWcu: {
    limit: 40_000,
    source:
      'https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html (on-demand write request units per table)',
  },
  dynamoOnDemandTableRcu: {
    limit: 40_000,
    source:
      'https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html (on-demand read request units per table)',
  },
  firehoseDirectPutMiBps: {
    limit: 5,
    source:
      'https://docs.aws.amazon.com/firehose/latest/dev/limits.html (Direct PUT, us-east-1/us-west-2/eu-west-1; 1 MiB/s elsewhere)',
  },
  kinesisOnDemandWriteMiBps: {
    limit: 200,
    source:
      'https://docs.aws.amazon.com/streams/latest/dev/service-sizes-and-limits.html (on-demand stream write throughput)',
  },
  kinesisOnDemandWriteRecords: {
    limit: 200_000,
    source:
      'https://docs.aws.amazon.com/streams/latest/dev/service-sizes-and-limits.html (on-demand stream records per second)',
  },
  /**
   * Not a quota: the fraud consumer is a singleton (reserved concurrency 1, docs/fraud.md), so
   * one execution reads every shard of both streams in turn. Full batches of 10 000 records at
   * about 5 invocations a second; an estimate, not measured in Lambda.
   */
  fraudConsumerEvents: {
    limit: 50_000,
    source:
      'estimate for one execution (reserved concurrency 1): 10,000-record batches × ~5 invocations/s; docs/fraud.md "In AWS"',
  },
  /** Not a quota: Redis executes commands on one thread, and every write goes to the primary. */
  redisPrimaryOps: {
    limit: 100_000,
    source:
      'rule of thumb for one ElastiCache Redis primary (single-threaded command execution); measure before relying on it',
  },
} as const;

/** Kinesis shard-equivalents an on-demand stream scales to: 1 MiB/s or 1,000 records/s each. */
function shardsFor(recordsPerSecond: number, bytesPerRecord: number): number {
  return Math.max(1, Math.ceil(Math.max((recordsPerSecond * bytesPerRecord) / MiB, recordsPerSecond / 1_000)));
}

/** DynamoDB request units for one item: writes per started KiB, strongly consistent reads per started 4 KiB. */
const writeUnits = (bytes: number) => Math.ceil(bytes / 1024);
const readUnits = (bytes: number) => Math.ceil(bytes / 4096);

/** Rounds for display only (two decimals, two significant digits under 1); rows keep the exact value. */
const round = (n: number) => (Math.abs(n) < 1 ? Number(n.toPrecision(2)) : Number(n.toFixed(2)));

export function capacityReport(config: StageConfig): CapacityReport {
  const t = config.targets;
  const rows: CapacityRow[] = [];
  const warnings: CapacityWarning[] = [];
  const row = (area: string, figure: string, value: number, unit: string, how: string) =>
    rows.push({ area, figure, value, unit, how });
  const over = (
    quota: keyof typeof QUOTAS,
    what: string,
    needed: number,
    advice: string,
    limit: number = QUOTAS[quota].limit,
  ) => {
    if (needed > limit) warnings.push({ quota: what, needed, limit, advice, source: QUOTAS[quota].source });
  };

  // API Gateway: one request per /predict call (a batch carries adsPerPredictRequest ads), plus event batches at peak.
  const predictRps = t.predictionsPerSecond / t.adsPerPredictRequest;
  const eventsAvg = t.eventsPerDay / SECONDS_A_DAY;
  const eventsPeak = eventsAvg * t.eventPeakFactor;
  const eventRps = eventsPeak / t.eventsPerRequest;
  const apiRps = predictRps + eventRps;
  row('API Gateway', 'predict requests', predictRps, 'req/s', 'predictions/s ÷ ads per request');
  row(
    'API Gateway',
    'event requests (peak)',
    eventRps,
    'req/s',
    'events/day ÷ 86,400 × peak factor ÷ events per request',
  );
  row('API Gateway', 'total', apiRps, 'req/s', 'predict + event requests');
  over(
    'apiGatewayRps',
    'API Gateway requests per second (account, Region)',
    apiRps,
    'request a throttle quota increase',
  );
  if (apiRps > config.serving.adServerRateLimit) {
    // Our own setting, not an AWS quota: the usage plan would throttle ad servers below the target.
    warnings.push({
      quota: 'ad servers usage plan rate (config.serving.adServerRateLimit)',
      needed: apiRps,
      limit: config.serving.adServerRateLimit,
      advice: 'raise adServerRateLimit or spread ad servers over several usage plans',
      source: 'lib/config.ts',
    });
  }

  // Event streams: impressions and clicks split by CTR; flagged events are a share of both.
  const impressions = eventsPeak / (1 + t.clickThroughRate);
  const clicks = eventsPeak - impressions;
  const suspicious = eventsPeak * t.suspiciousEventShare;
  const streams = [
    { table: 'ad_impressions', records: impressions },
    { table: 'clicks', records: clicks },
    { table: 'suspicious_events', records: suspicious },
  ].map((s) => ({ ...s, mibps: (s.records * t.eventBytes) / MiB, shards: shardsFor(s.records, t.eventBytes) }));
  for (const s of streams) {
    row('Kinesis', `${s.table} records (peak)`, s.records, 'records/s', 'events at peak, split by CTR / flag share');
    row('Kinesis', `${s.table} throughput (peak)`, s.mibps, 'MiB/s', 'records/s × event bytes');
    row('Kinesis', `${s.table} shard-equivalents`, s.shards, 'shards', 'max(MiB/s ÷ 1, records/s ÷ 1,000)');
    over(
      'kinesisOnDemandWriteMiBps',
      `Kinesis on-demand write MiB/s (${s.table})`,
      s.mibps,
      'request an increase or split the stream by key',
    );
    over(
      'kinesisOnDemandWriteRecords',
      `Kinesis on-demand records/s (${s.table})`,
      s.records,
      'request an increase or split the stream by key',
    );
  }

  // Lambda concurrency by Little's law (arrival rate × time in system); stream consumers run one
  // invocation per shard (parallelization factor 1), the prediction log's per DynamoDB stream shard
  // (about one per 1,000 WCU partition).
  const predictionWcu = t.predictionsPerSecond * writeUnits(t.predictionItemBytes);
  const sourceShards = streams[0]!.shards + streams[1]!.shards;
  const concurrency = {
    predict: Math.ceil(predictRps * (t.predictLatencyMs / 1000)),
    api: Math.ceil(eventRps * (t.eventRequestLatencyMs / 1000)),
    featureCounters: sourceShards,
    // The rules judge users, IPs and sites across both streams: one execution, whatever the shards.
    fraudConsumer: 1,
    predictionLogStream: Math.max(1, Math.ceil(predictionWcu / 1_000)),
  };
  const concurrencyHow: Record<keyof typeof concurrency, string> = {
    predict: 'predict req/s × predictLatencyMs',
    api: 'event req/s × eventRequestLatencyMs',
    featureCounters: 'ad_impressions + clicks shards',
    fraudConsumer: 'reserved concurrency 1 (the rules are a singleton)',
    predictionLogStream: 'prediction log WCU ÷ 1,000 (DynamoDB stream shards)',
  };
  let totalConcurrency = 0;
  for (const [fn, n] of Object.entries(concurrency) as [keyof typeof concurrency, number][]) {
    row('Lambda', `${fn} concurrency`, n, 'executions', concurrencyHow[fn]);
    totalConcurrency += n;
  }
  row('Lambda', 'total concurrency', totalConcurrency, 'executions', 'sum of the functions above');
  over(
    'fraudConsumerEvents',
    'fraud consumer events/s (one execution)',
    streams[0]!.records + streams[1]!.records,
    "move the rules' state to Redis and run one consumer per shard (docs/fraud.md)",
  );
  over(
    'lambdaConcurrency',
    'Lambda concurrent executions (account, Region)',
    totalConcurrency,
    'request a concurrency increase',
  );

  // Firehose: one delivery stream per event table (fed by its Kinesis stream: no Direct PUT quota)
  // and model_predictions, which the stream Lambda writes by Direct PUT.
  const predictionsMiBps = (t.predictionsPerSecond * t.predictionItemBytes) / MiB;
  row('Firehose', 'delivery streams', streams.length + 1, 'streams', 'one per event table + model_predictions');
  for (const s of streams) {
    row('Firehose', `${s.table} (Kinesis source)`, s.mibps, 'MiB/s', 'as its stream');
  }
  row('Firehose', 'model_predictions (Direct PUT)', predictionsMiBps, 'MiB/s', 'predictions/s × item bytes');
  over(
    'firehoseDirectPutMiBps',
    'Firehose Direct PUT MiB/s (model_predictions)',
    predictionsMiBps,
    `request an increase or shard over ${Math.ceil(predictionsMiBps / QUOTAS.firehoseDirectPutMiBps.limit)} delivery streams`,
  );

  // DynamoDB: the prediction log writes each prediction once (conditional put) and, with a
  // request_id (assumed on every call: the ad servers' idempotency key), reads it first.
  const predictionRcu = t.predictionsPerSecond * readUnits(t.predictionItemBytes);
  row('DynamoDB', 'prediction log items', t.predictionsPerSecond, 'items/s', 'one per prediction');
  row('DynamoDB', 'prediction log write units', predictionWcu, 'WCU', 'items/s × ⌈item bytes ÷ 1 KiB⌉');
  row(
    'DynamoDB',
    'prediction log read units',
    predictionRcu,
    'RCU',
    'items/s × ⌈item bytes ÷ 4 KiB⌉ (request_id replay check)',
  );
  over(
    'dynamoOnDemandTableWcu',
    'DynamoDB on-demand write units (prediction log table)',
    predictionWcu,
    'request a table throughput increase or use provisioned capacity',
  );
  over(
    'dynamoOnDemandTableRcu',
    'DynamoDB on-demand read units (prediction log table)',
    predictionRcu,
    'request a table throughput increase or use provisioned capacity',
  );

  // Redis: a prediction request reads the user's and each ad's counters; the consumer runs one
  // script per counted event.
  const redisReads = predictRps * (1 + t.adsPerPredictRequest);
  const redisWrites = impressions + clicks;
  row('Redis', 'feature reads', redisReads, 'ops/s', 'predict req/s × (1 user + ads per request)');
  row('Redis', 'counter updates (peak)', redisWrites, 'ops/s', 'impressions + clicks at peak');
  row('Redis', 'total', redisReads + redisWrites, 'ops/s', 'reads + updates');
  over(
    'redisPrimaryOps',
    'Redis ops/s on one primary (guideline)',
    redisReads + redisWrites,
    'read from replicas or shard with cluster mode',
  );

  // SageMaker: instances the target needs at the configured invocations per instance.
  const instances = Math.max(1, Math.ceil(predictRps / (config.model.invocationsPerInstancePerMinute / 60)));
  row(
    'SageMaker',
    'endpoint instances',
    instances,
    'instances',
    'predict req/s ÷ (invocations per instance per minute ÷ 60)',
  );
  if (instances > config.model.maxInstances) {
    warnings.push({
      quota: 'SageMaker autoscaling maximum (config.model.maxInstances)',
      needed: instances,
      limit: config.model.maxInstances,
      advice: 'raise maxInstances (and the account instance quota for the type)',
      source: 'lib/config.ts',
    });
  }

  return { stage: config.stage, rows, warnings };
}

/** The report as aligned text. */
export function formatCapacityReport(report: CapacityReport): string {
  const lines = [`Capacity report for stage ${report.stage} (from lib/config.ts targets):`];
  const width = Math.max(...report.rows.map((r) => `${r.area}: ${r.figure}`.length));
  for (const r of report.rows) {
    const label = `${r.area}: ${r.figure}`.padEnd(width);
    lines.push(`  ${label}  ${round(r.value).toLocaleString('en-US').padStart(12)} ${r.unit.padEnd(10)} ${r.how}`);
  }
  if (report.warnings.length === 0) {
    lines.push('No default AWS quota exceeded.');
  } else {
    lines.push(`${report.warnings.length} default quota(s) exceeded:`);
    for (const w of report.warnings) {
      lines.push(
        `  WARNING ${w.quota}: needs ${round(w.needed).toLocaleString('en-US')}, default ${w.limit.toLocaleString('en-US')}; ${w.advice}. Source: ${w.source}`,
      );
    }
  }
  return lines.join('\n');
}

/** Prints the stage's report on stderr. */
export function printCapacityReport(
  config: StageConfig,
  write: (text: string) => void = (s) => process.stderr.write(s),
): void {
  write(`${formatCapacityReport(capacityReport(config))}\n`);
}
