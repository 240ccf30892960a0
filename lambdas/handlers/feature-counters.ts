/**
 * The Kinesis consumer of the `ad_impressions` and `clicks` streams that keeps the feature counters
 * (impressions and clicks per user pseudonym and per ad, all time and in the hourly buckets of the
 * 1 h and 24 h windows, by event time) in the DynamoDB features table,
 * and their cached copies in Redis fresh. Every event is counted exactly once despite Lambda's
 * retries and duplicate events; see `processBatch` and lambdas/handlers/README.md.
 *
 * Why not Powertools' BatchProcessor: it hands records to a handler one at a time, while the
 * exactly-once scheme needs the whole batch at once (one conditional write per counter per batch,
 * and "replay from the lowest failed sequence number" computed over all of them), so the partial
 * batch response `{ batchItemFailures: [{ itemIdentifier }] }` is built here.
 */
import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { KinesisStreamBatchResponse, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import type { ChainableCommander, Redis } from 'ioredis';
import * as z from 'zod';
import {
  type Credit,
  FeatureCounterTable,
  padSequenceNumber,
  type SequencedDelta,
} from '../adapters/aws/dynamodb/feature-table.js';
import { mapBounded } from '../adapters/aws/dynamodb/retry.js';
import { parseRecordData, streamNameOfArn } from '../adapters/aws/kinesis/stream-records.js';
import { bucketFieldValues, type Counter, type CounterKey } from '../adapters/aws/redis/counters.js';
import { RAISE_COUNTER_LUA } from '../adapters/aws/redis/lua.js';
import { createRedisClient, waitUntilReady } from '../adapters/aws/redis/redis-client.js';
import { counterRedisKey, DEFAULT_FEATURE_KEY_PREFIX } from '../adapters/aws/redis/redis-feature-store.js';
import { readRedisAuthToken } from '../adapters/aws/secrets/redis-auth-token.js';
import { hourOf, oldestLiveHour } from '../core/features/counter-windows.js';
import { DEFAULT_ATTRIBUTION_WINDOW_SECONDS } from '../core/lake/attribution.js';
import type { Logger } from '../core/ports.js';
import { parseFeatureCountersConfig } from './consumer-config.js';
import { coreLogger, tracedHandler } from './observability.js';

// ---------------------------------------------------------------- records

/** Pseudonyms are HMAC hex and ids at most 128 characters; the bound only keeps keys sane. */
const text = z.string().min(1).max(512);
const epochMs = z.number().int().min(0).max(8.64e15);

/**
 * The lake rows (lake-json.ts) this consumer reads. Not strict: the lake's schemas grow by adding
 * nullable columns, and a producer deployed before this consumer must not turn every event into
 * poison; the columns read here are checked.
 */
const ImpressionRow = z.object({ impression_id: text, user_id: text, ad_id: text, timestamp: epochMs });
const ClickRow = z.object({
  click_id: text,
  impression_id: text,
  user_id: text.nullable(),
  clicked: z.boolean(),
  timestamp: epochMs,
});

export type StreamEvent =
  | {
      readonly table: 'ad_impressions';
      readonly id: string;
      readonly user: string;
      readonly ad: string;
      readonly atMs: number;
    }
  | {
      readonly table: 'clicks';
      readonly id: string;
      readonly impressionId: string;
      readonly user: string | null;
      readonly clicked: boolean;
      readonly atMs: number;
    };

interface Decoded {
  readonly record: KinesisStreamRecord;
  /** `<stream>/<shardId>`: sequence numbers are ordered within it. */
  readonly shard: string;
  readonly seq: string;
  readonly event: StreamEvent;
}

/** The stream event of a record's data, or why it is poison. */
export function decodeRecord(data: string): StreamEvent | { readonly problem: string } {
  const value = parseRecordData(data);
  if (typeof value === 'string') return { problem: value };
  if ('click_id' in value) {
    const row = ClickRow.safeParse(value);
    if (!row.success) return { problem: `not a clicks row: ${row.error.issues[0]?.path.join('.')}` };
    const r = row.data;
    return {
      table: 'clicks',
      id: r.click_id,
      impressionId: r.impression_id,
      user: r.user_id,
      clicked: r.clicked,
      atMs: r.timestamp,
    };
  }
  const row = ImpressionRow.safeParse(value);
  if (!row.success) return { problem: `not an ad_impressions row: ${row.error.issues[0]?.path.join('.')}` };
  const r = row.data;
  return { table: 'ad_impressions', id: r.impression_id, user: r.user_id, ad: r.ad_id, atMs: r.timestamp };
}

function shardOf(record: KinesisStreamRecord): string {
  const stream = streamNameOfArn(record.eventSourceARN) ?? record.eventSourceARN;
  const colon = record.eventID.indexOf(':');
  return `${stream}/${colon > 0 ? record.eventID.slice(0, colon) : record.eventID}`;
}

// ---------------------------------------------------------------- Redis

interface RaisePipeline extends ChainableCommander {
  adclickRaiseCounter(
    key: string,
    impressions: number,
    clicks: number,
    ttlMs: number,
    oldestHour: number,
    ...buckets: (string | number)[]
  ): this;
}

/**
 * Writes totals DynamoDB returned (all time and the live buckets) into the hashes
 * RedisFeatureStore reads, never lowering one, and drops the buckets no window reads any more.
 */
export class RedisCounterCache {
  private readonly keyPrefix: string;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(
    private readonly redis: Redis,
    options: { keyPrefix?: string; counterTtlMs?: number; now?: () => number } = {},
  ) {
    this.keyPrefix = options.keyPrefix ?? DEFAULT_FEATURE_KEY_PREFIX;
    // As RedisFeatureStore's fills: the hash is re-read from DynamoDB now and then.
    this.ttlMs = options.counterTtlMs ?? 15 * 60_000;
    this.now = options.now ?? Date.now;
    redis.defineCommand('adclickRaiseCounter', { numberOfKeys: 1, lua: RAISE_COUNTER_LUA });
  }

  async raise(totals: readonly (readonly [CounterKey, Counter])[]): Promise<void> {
    if (totals.length === 0) return;
    const oldest = oldestLiveHour(this.now());
    const p = this.redis.pipeline() as RaisePipeline;
    for (const [key, c] of totals) {
      p.adclickRaiseCounter(
        counterRedisKey(key, this.keyPrefix),
        c.impressions,
        c.clicks,
        this.ttlMs,
        oldest,
        ...bucketFieldValues(c.hours, oldest),
      );
    }
    const replies = await p.exec();
    const failed = replies?.find(([err]) => err)?.[0];
    if (replies === null || failed) throw failed ?? new Error('Redis pipeline was discarded');
  }
}

// ---------------------------------------------------------------- the batch

export interface FeatureCountersDeps {
  readonly table: FeatureCounterTable;
  /** Null: no Redis (the API's cache-aside reads still come from DynamoDB). */
  readonly cache: RedisCounterCache | null;
}

/** What one batch did: the handler turns it into metrics. */
export interface BatchReport {
  readonly records: number;
  /** Records skipped because their data is not a valid row (each logged with its sequence number). */
  readonly poison: number;
  /** Events whose id another record already counts. */
  readonly duplicates: number;
  /** Events claimed and added to every counter they touch. */
  readonly counted: number;
  /** The sequence number Lambda is told to replay from, if any. */
  readonly failedFrom: string | null;
  readonly redisFailed: boolean;
}

export interface ProcessOptions {
  readonly logger: Logger;
  /** A click counts for its impression when it comes at most this long after it. */
  readonly attributionWindowMs?: number;
}

/** The Redis feature store's margin over the attribution window (impression TTL). */
const ATTRIBUTION_MARGIN_MS = 300_000;

const keyId = (k: CounterKey) => `${k.entity}\u0000${k.id}`;

/**
 * Counts a batch exactly once:
 * 1. Each record is decoded; poison is logged and skipped (reporting it would replay it forever).
 * 2. Each event id is claimed by its record (FeatureCounterTable.claim): a duplicate event is
 *    skipped, Lambda's retry of the same record proceeds with the credit stored the first time.
 *    Impressions first, so a click in the same batch finds its impression.
 * 3. A click counts for its impression's user and ad; when the impression is unknown (not
 *    claimed yet, or outside the attribution window) for its own user_id if any, and no ad. A
 *    non-click counts nothing (its id is claimed all the same, so a later `clicked: true` under
 *    the same id is a duplicate, as it is in the lake).
 * 4. The counted events up to the first failed claim are added per counter and shard in one
 *    guarded write (FeatureCounterTable.addOnce), to the totals and to the hourly buckets of
 *    their event times alike; later ones wait for the replay, because a counter's stored
 *    sequence number says "everything up to here is in".
 * 5. The new totals go to Redis (a failure is logged: DynamoDB holds the truth).
 * 6. If anything failed, the lowest sequence number involved is reported: Lambda replays from
 *    there, and the replay adds only what is missing.
 */
export async function processBatch(
  deps: FeatureCountersDeps,
  event: KinesisStreamEvent,
  options: ProcessOptions,
): Promise<{ response: KinesisStreamBatchResponse; report: BatchReport }> {
  const { logger } = options;
  const windowMs = options.attributionWindowMs ?? DEFAULT_ATTRIBUTION_WINDOW_SECONDS * 1_000 + ATTRIBUTION_MARGIN_MS;
  let poison = 0;
  const decoded: Decoded[] = [];
  for (const record of event.Records) {
    const result = decodeRecord(record.kinesis.data);
    if ('problem' in result) {
      poison++;
      logger.error('poison record skipped', {
        sequenceNumber: record.kinesis.sequenceNumber,
        eventSourceARN: record.eventSourceARN,
        problem: result.problem,
      });
      continue;
    }
    decoded.push({
      record,
      shard: shardOf(record),
      seq: padSequenceNumber(record.kinesis.sequenceNumber),
      event: result,
    });
  }
  decoded.sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0));

  // Only the first record of an id in the batch claims it; the rest are duplicates whatever the claim says.
  const first = new Map<string, Decoded>();
  let duplicates = 0;
  for (const d of decoded) {
    const id = `${d.event.table}\u0000${d.event.id}`;
    if (first.has(id)) duplicates++;
    else first.set(id, d);
  }
  const toClaim = [...first.values()];

  const credits = new Map<Decoded, Credit>();
  const failedClaims: Decoded[] = [];
  const claimAll = async (items: readonly Decoded[], creditOf: (d: Decoded) => Credit) => {
    await mapBounded(items, 16, async (d) => {
      try {
        const result = await deps.table.claim({
          table: d.event.table,
          id: d.event.id,
          claim: `${d.shard}/${d.record.kinesis.sequenceNumber}`,
          credit: creditOf(d),
          atMs: d.event.atMs,
        });
        if (result.status === 'claimed') credits.set(d, result.credit);
        else duplicates++;
      } catch (err) {
        failedClaims.push(d);
        logger.warn('event claim failed', { sequenceNumber: d.record.kinesis.sequenceNumber, error: String(err) });
      }
    });
  };

  const impressions = toClaim.filter((d) => d.event.table === 'ad_impressions');
  const clicks = toClaim.filter((d) => d.event.table === 'clicks');
  await claimAll(impressions, (d) => {
    const e = d.event as Extract<StreamEvent, { table: 'ad_impressions' }>;
    return { user: e.user, ad: e.ad };
  });

  // A click's credit is stored with its claim for good, so it is decided only once every record
  // before it is claimed: clicks after a failed impression claim wait for the replay.
  const impressionsFailedAt = lowestSeq(failedClaims);
  const clicksNow = clicks.filter((d) => impressionsFailedAt === null || d.seq < impressionsFailedAt);
  failedClaims.push(...clicks.filter((d) => !clicksNow.includes(d)));
  if (clicksNow.length > 0) {
    // Impressions of this batch count for the clicks after them, as in the local store.
    const inBatch = new Map<string, Decoded>();
    for (const d of impressions) if (credits.has(d)) inBatch.set(d.event.id, d);
    const wanted = clicksNow.flatMap((d) =>
      d.event.table === 'clicks' && d.event.clicked && !inBatch.has(d.event.impressionId) ? [d.event.impressionId] : [],
    );
    let known: Map<string, { user: string; ad: string; atMs: number }> | undefined;
    try {
      known = await deps.table.impressions(wanted);
    } catch (err) {
      logger.warn('impression lookup failed', { error: String(err) });
      failedClaims.push(...clicksNow);
    }
    if (known) {
      await claimAll(clicksNow, (d) => {
        const e = d.event as Extract<StreamEvent, { table: 'clicks' }>;
        if (!e.clicked) return { user: null, ad: null };
        const here = inBatch.get(e.impressionId);
        const hereCredit = here && here.seq < d.seq ? credits.get(here) : undefined;
        const imp = here
          ? hereCredit && { user: hereCredit.user!, ad: hereCredit.ad!, atMs: here.event.atMs }
          : known.get(e.impressionId);
        return imp && e.atMs - imp.atMs <= windowMs ? { user: imp.user, ad: imp.ad } : { user: e.user, ad: null };
      });
    }
  }

  const stopAt = lowestSeq(failedClaims);
  const grouped = new Map<
    string,
    { key: CounterKey; shard: string; deltas: (SequencedDelta & { record: Decoded })[] }
  >();
  const add = (d: Decoded, key: CounterKey, impressions: number, clicks: number) => {
    const id = `${d.shard}\u0000${keyId(key)}`;
    let g = grouped.get(id);
    if (!g) {
      g = { key, shard: d.shard, deltas: [] };
      grouped.set(id, g);
    }
    // A click's bucket is its own event time, as in the local store; too old is decided at the write.
    g.deltas.push({ seq: d.seq, impressions, clicks, hour: hourOf(d.event.atMs), record: d });
  };
  const countable: string[] = [];
  for (const d of toClaim) {
    const credit = credits.get(d);
    if (credit === undefined || (stopAt !== null && d.seq >= stopAt)) continue;
    const isImpression = d.event.table === 'ad_impressions';
    if (!isImpression && !(d.event as { clicked: boolean }).clicked) continue;
    const [i, c] = isImpression ? [1, 0] : [0, 1];
    if (credit.user !== null) add(d, { entity: 'user', id: credit.user }, i, c);
    if (credit.ad !== null) add(d, { entity: 'ad', id: credit.ad }, i, c);
    countable.push(d.seq);
  }

  const totals: [CounterKey, Counter][] = [];
  let failedFrom = stopAt;
  await mapBounded([...grouped.values()], 8, async (g) => {
    try {
      totals.push([g.key, await deps.table.addOnce(g.key, g.shard, g.deltas)]);
    } catch (err) {
      // Deltas are in sequence order (the batch was sorted).
      const lowest = g.deltas[0]!.seq;
      if (failedFrom === null || lowest < failedFrom) failedFrom = lowest;
      logger.warn('counter update failed', { counter: keyId(g.key), error: String(err) });
    }
  });

  let redisFailed = false;
  if (deps.cache !== null && totals.length > 0) {
    try {
      await deps.cache.raise(totals);
    } catch (err) {
      redisFailed = true;
      logger.warn('redis counter refresh failed', { error: String(err) });
    }
  }

  const failedRecord = failedFrom === null ? undefined : decoded.find((d) => d.seq === failedFrom);
  return {
    response: {
      batchItemFailures: failedRecord ? [{ itemIdentifier: failedRecord.record.kinesis.sequenceNumber }] : [],
    },
    report: {
      records: event.Records.length,
      poison,
      duplicates,
      counted: countable.filter((seq) => failedFrom === null || seq < failedFrom).length,
      failedFrom: failedRecord?.record.kinesis.sequenceNumber ?? null,
      redisFailed,
    },
  };
}

function lowestSeq(records: readonly Decoded[]): string | null {
  let lowest: string | null = null;
  for (const d of records) if (lowest === null || d.seq < lowest) lowest = d.seq;
  return lowest;
}

// ---------------------------------------------------------------- the handler

export interface FeatureCountersHandlerOptions {
  /**
   * Builds the table and the Redis writer once per container, at the first invoke (the composition
   * seam). A rejection is not remembered: the next invoke tries again.
   */
  readonly compose: () => Promise<FeatureCountersDeps> | FeatureCountersDeps;
  readonly logger: Logger;
  /** Called once per batch. Default: nothing (the deployed handler publishes EMF metrics). */
  readonly onBatch?: (report: BatchReport) => void;
  readonly attributionWindowMs?: number;
}

export type FeatureCountersHandler = (event: KinesisStreamEvent) => Promise<KinesisStreamBatchResponse>;

/**
 * The entry point: counts the batch and answers the partial batch response. An error outside the
 * per-event handling (the configuration, building the clients) rejects the invoke, and Lambda
 * retries the whole batch, which is safe: counting is idempotent.
 */
export function createFeatureCountersHandler(options: FeatureCountersHandlerOptions): FeatureCountersHandler {
  let deps: Promise<FeatureCountersDeps> | undefined;
  const ready = () => {
    deps ??= Promise.resolve().then(options.compose);
    deps.catch(() => {
      deps = undefined;
    });
    return deps;
  };
  return async (event) => {
    const { response, report } = await processBatch(await ready(), event, {
      logger: options.logger,
      ...(options.attributionWindowMs === undefined ? {} : { attributionWindowMs: options.attributionWindowMs }),
    });
    options.onBatch?.(report);
    return response;
  };
}

/** EMF metrics of a batch (Powertools Metrics, flushed per batch). */
export function batchMetrics(metrics: Metrics): (report: BatchReport) => void {
  return (report) => {
    metrics.captureColdStartMetric();
    metrics.addMetric('records', MetricUnit.Count, report.records);
    metrics.addMetric('eventsCounted', MetricUnit.Count, report.counted);
    metrics.addMetric('duplicateEvents', MetricUnit.Count, report.duplicates);
    if (report.poison > 0) metrics.addMetric('poisonRecords', MetricUnit.Count, report.poison);
    if (report.failedFrom !== null) metrics.addMetric('batchesReplayed', MetricUnit.Count, 1);
    if (report.redisFailed) metrics.addMetric('redisRefreshFailures', MetricUnit.Count, 1);
    metrics.publishStoredMetrics();
  };
}

const powertools = new PowertoolsLogger({ serviceName: 'adclick-feature-counters' });
const tracer = new Tracer({ serviceName: 'adclick-feature-counters' });

/**
 * The deployed handler: configuration from the environment and the clients, once per container.
 * Redis commands may wait a little here (no request is waiting on this function), but a Redis
 * that does not answer is skipped: DynamoDB is the truth and the API's cache-aside reads refill.
 */
export const handler: FeatureCountersHandler = tracedHandler(
  tracer,
  'feature-counters',
  createFeatureCountersHandler({
    logger: coreLogger(powertools),
    onBatch: batchMetrics(new Metrics({ serviceName: 'adclick-feature-counters' })),
    compose: async () => {
      const config = parseFeatureCountersConfig(process.env);
      const requestHandler = { connectionTimeout: 1_000, requestTimeout: 5_000 };
      const doc = DynamoDBDocumentClient.from(
        tracer.captureAWSv3Client(new DynamoDBClient({ region: config.region, maxAttempts: 5, requestHandler })),
        {
          marshallOptions: { removeUndefinedValues: true },
        },
      );
      const password = config.redisAuthSecretArn
        ? await readRedisAuthToken(
            tracer.captureAWSv3Client(new SecretsManagerClient({ region: config.region, requestHandler })),
            config.redisAuthSecretArn,
          )
        : undefined;
      const redis = createRedisClient(config.redisUrl, {
        connectTimeout: 1_000,
        commandTimeout: 1_000,
        enableOfflineQueue: true,
        ...(password === undefined ? {} : { password }),
      });
      redis.on('error', (err: Error) => powertools.warn('redis connection error', { error: err.message }));
      await waitUntilReady(redis, 1_000);
      return {
        table: new FeatureCounterTable(doc, { tableName: config.featuresTable }),
        cache: new RedisCounterCache(redis, { keyPrefix: config.redisKeyPrefix }),
      };
    },
  }),
);
