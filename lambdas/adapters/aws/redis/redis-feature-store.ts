import type { ChainableCommander, Redis } from 'ioredis';
import { bucketOf, oldestLiveHour } from '../../../core/features/counter-windows.js';
import { DEFAULT_ATTRIBUTION_WINDOW_SECONDS } from '../../../core/lake/attribution.js';
import type { Clock, CounterEvent, FeatureMap, FeatureStore, Logger } from '../../../core/ports.js';
import { CircuitBreaker, CircuitOpenError } from './circuit-breaker.js';
import {
  bucketField,
  bucketFieldValues,
  type Counter,
  type CounterDelta,
  type CounterKey,
  counterFeatures,
  parseBuckets,
} from './counters.js';
import type { FeatureBackingStore } from './feature-backing-store.js';
import { FILL_COUNTER_LUA, impressionMapping, RECORD_CLICK_LUA, RECORD_IMPRESSION_LUA } from './lua.js';

export interface RedisFeatureStoreOptions {
  /** Prefix of every key, so several deployments can share one Redis. */
  readonly keyPrefix?: string;
  /** How long a click can still be credited to its impression: the attribution window plus margin. */
  readonly impressionTtlMs?: number;
  /** How long a counter hash stays cached before it is re-read from the durable store. */
  readonly counterTtlMs?: number;
  /** Shared with the other users of the same connection (the prediction cache). */
  readonly breaker?: CircuitBreaker;
  readonly logger?: Logger;
  /**
   * False makes `record` a no-op: in AWS the Kinesis consumer (lambdas/handlers/feature-counters.ts)
   * counts every event exactly once, from the streams, and keeps these hashes fresh; the API then
   * only reads. Default true (the store counts what `record` is given, as the local store does).
   */
  readonly countEvents?: boolean;
  /** The "now" of the 1 h and 24 h windows, at read and at record time. Default: the system clock. */
  readonly clock?: Clock;
}

/** The key prefix when none is given. */
export const DEFAULT_FEATURE_KEY_PREFIX = 'adclick:';

/**
 * The Redis hash holding a counter (fields `i` and `c`, buckets `i:<hour>` and `c:<hour>`, see
 * lua.ts), as `get` reads it: what a writer outside this class (the stream consumer) must use.
 */
export function counterRedisKey(key: CounterKey, keyPrefix: string = DEFAULT_FEATURE_KEY_PREFIX): string {
  return `${keyPrefix}${key.entity === 'user' ? 'fu:' : 'fa:'}${key.id}`;
}

/** Margin over the attribution window: a click may reach the store a little after its deadline. */
const IMPRESSION_TTL_MARGIN_SECONDS = 300;

interface FeaturePipeline extends ChainableCommander {
  adclickRecordImpression(
    user: string,
    ad: string,
    impression: string,
    mapping: string,
    ttlMs: number,
    bucket: string,
    oldestHour: number,
  ): this;
  adclickRecordClick(
    impression: string,
    userPrefix: string,
    adPrefix: string,
    bucket: string,
    oldestHour: number,
  ): this;
  adclickFillCounter(
    key: string,
    impressions: number,
    clicks: number,
    ttlMs: number,
    oldestHour: number,
    ...buckets: (string | number)[]
  ): this;
}

/** A pipeline whose commands did not all succeed; `results` holds those that did. */
class PartialPipelineError extends Error {
  constructor(
    readonly results: readonly unknown[],
    readonly failed: number,
    cause: unknown,
  ) {
    super(`${failed} Redis command(s) failed: ${String(cause)}`, { cause });
  }
}

const FAILED = Symbol('failed');

async function execPipeline(pipeline: ChainableCommander): Promise<unknown[]> {
  const replies = await pipeline.exec();
  if (replies === null) throw new Error('Redis pipeline was discarded');
  let firstError: unknown;
  let failed = 0;
  const results = replies.map(([err, value]) => {
    if (!err) return value;
    failed++;
    firstError ??= err;
    return FAILED;
  });
  if (failed > 0) throw new PartialPipelineError(results, failed, firstError);
  return results;
}

/**
 * Per-user and per-ad impression and click counters in Redis, cache-aside over a durable store
 * (the DynamoDB features table in AWS). Same features, names and prior as the local store.
 *
 * - `get` reads the user and every ad in one pipeline (one round trip). A key Redis does not hold
 *   is read from the durable store and filled into Redis. It never throws, because the predict
 *   use case does not catch a failing feature store: with Redis down the counters come from the
 *   durable store, and an entity neither can answer gets no counter features at all (`{}`), not
 *   zeros, so the logged snapshot does not claim a known user is new.
 * - `record` sends the whole batch as one pipeline of atomic steps (in order, so a click in the
 *   same batch as its impression is credited), then adds the counts to the durable store. With
 *   Redis down the impressions still reach the durable store, and the error (naming the clicks
 *   that could not be credited, since only Redis knows an impression's user and ad) is thrown for
 *   the use case to log.
 * - A circuit breaker keeps a dead Redis from costing anything per request.
 */
export class RedisFeatureStore implements FeatureStore {
  readonly breaker: CircuitBreaker;
  private readonly userPrefix: string;
  private readonly adPrefix: string;
  private readonly impressionPrefix: string;
  private readonly impressionTtlMs: number;
  private readonly counterTtlMs: number;
  private readonly logger: Logger | undefined;
  private readonly countEvents: boolean;
  private readonly clock: Clock;

  constructor(
    private readonly redis: Redis,
    private readonly backing: FeatureBackingStore,
    options: RedisFeatureStoreOptions = {},
  ) {
    const prefix = options.keyPrefix ?? DEFAULT_FEATURE_KEY_PREFIX;
    this.userPrefix = counterRedisKey({ entity: 'user', id: '' }, prefix);
    this.adPrefix = counterRedisKey({ entity: 'ad', id: '' }, prefix);
    this.impressionPrefix = `${prefix}imp:`;
    this.impressionTtlMs =
      options.impressionTtlMs ?? (DEFAULT_ATTRIBUTION_WINDOW_SECONDS + IMPRESSION_TTL_MARGIN_SECONDS) * 1_000;
    this.counterTtlMs = options.counterTtlMs ?? 15 * 60_000;
    this.breaker = options.breaker ?? new CircuitBreaker({ name: 'redis' });
    this.logger = options.logger;
    this.countEvents = options.countEvents ?? true;
    this.clock = options.clock ?? { now: () => new Date() };
    // Defined on the connection (idempotent): ioredis sends EVAL once per socket, then EVALSHA.
    redis.defineCommand('adclickRecordImpression', { numberOfKeys: 3, lua: RECORD_IMPRESSION_LUA });
    redis.defineCommand('adclickRecordClick', { numberOfKeys: 1, lua: RECORD_CLICK_LUA });
    redis.defineCommand('adclickFillCounter', { numberOfKeys: 1, lua: FILL_COUNTER_LUA });
  }

  async get(
    userKey: string | null,
    adIds: readonly string[],
    asOf?: Date,
  ): Promise<{ user: FeatureMap; ads: FeatureMap[] }> {
    const keys: CounterKey[] = adIds.map((id) => ({ entity: 'ad', id }));
    if (userKey !== null) keys.unshift({ entity: 'user', id: userKey });
    const counters = await this.readCounters(keys);
    const now = (asOf ?? this.clock.now()).getTime();
    const offset = userKey === null ? 0 : 1;
    const featuresOf = (entity: 'user' | 'ad', c: Counter | null) =>
      c === null ? {} : counterFeatures(entity, c, now);
    return {
      user: userKey === null ? {} : featuresOf('user', counters[0]!),
      ads: adIds.map((_, k) => featuresOf('ad', counters[k + offset]!)),
    };
  }

  async record(events: readonly CounterEvent[]): Promise<void> {
    if (events.length === 0 || !this.countEvents) return;
    const now = this.clock.now().getTime();
    // Decided once here, so Redis and the durable store put each event in the same bucket.
    const hours = events.map((e) => bucketOf(e.at.getTime(), now));
    let results: readonly unknown[] | undefined;
    let redisError: unknown;
    try {
      results = await this.breaker.run(() => execPipeline(this.recordPipeline(events, hours, oldestLiveHour(now))));
    } catch (err) {
      redisError = err;
      if (err instanceof PartialPipelineError) results = err.results;
    }

    const deltas: CounterDelta[] = [];
    let uncredited = 0;
    events.forEach((e, i) => {
      const hour = hours[i]!;
      if (e.kind === 'impression') {
        deltas.push({ entity: 'user', id: e.userKey, impressions: 1, clicks: 0, hour });
        deltas.push({ entity: 'ad', id: e.adId, impressions: 1, clicks: 0, hour });
        return;
      }
      const credited = results?.[i] ?? FAILED;
      if (credited === FAILED) uncredited++;
      else if (Array.isArray(credited)) {
        const [user, ad] = credited as [string, string];
        deltas.push({ entity: 'user', id: user, impressions: 0, clicks: 1, hour });
        deltas.push({ entity: 'ad', id: ad, impressions: 0, clicks: 1, hour });
      }
      // null: the impression is unknown or older than the attribution window, as in the local store.
    });
    await this.backing.add(deltas);
    if (redisError !== undefined) {
      throw new Error(
        `Redis feature counters not updated (durable counters are; ${uncredited} click(s) not credited): ${String(redisError)}`,
        { cause: redisError },
      );
    }
  }

  private recordPipeline(
    events: readonly CounterEvent[],
    hours: readonly (number | null)[],
    oldestHour: number,
  ): ChainableCommander {
    const p = this.redis.pipeline() as FeaturePipeline;
    events.forEach((e, k) => {
      const hour = hours[k]!;
      if (e.kind === 'impression') {
        p.adclickRecordImpression(
          this.userPrefix + e.userKey,
          this.adPrefix + e.adId,
          this.impressionPrefix + e.impressionId,
          impressionMapping(e.userKey, e.adId),
          this.impressionTtlMs,
          hour === null ? '' : bucketField('i', hour),
          oldestHour,
        );
      } else {
        p.adclickRecordClick(
          this.impressionPrefix + e.impressionId,
          this.userPrefix,
          this.adPrefix,
          hour === null ? '' : bucketField('c', hour),
          oldestHour,
        );
      }
    });
    return p;
  }

  private redisKey(k: CounterKey): string {
    return (k.entity === 'user' ? this.userPrefix : this.adPrefix) + k.id;
  }

  /** Counters in key order; null where neither Redis nor the durable store could answer. */
  private async readCounters(keys: readonly CounterKey[]): Promise<(Counter | null)[]> {
    if (keys.length === 0) return [];
    let cached: (Counter | undefined)[] | undefined;
    try {
      cached = await this.breaker.run(() => this.readRedis(keys));
    } catch (err) {
      if (!(err instanceof CircuitOpenError)) this.logger?.warn('redis feature read failed', { error: String(err) });
    }
    const counters: (Counter | null)[] = keys.map((_, i) => cached?.[i] ?? null);
    const missing = keys.flatMap((_, i) => (counters[i] === null ? [i] : []));
    if (missing.length === 0) return counters;

    let durable: (Counter | undefined)[];
    try {
      durable = await this.backing.getMany(missing.map((i) => keys[i]!));
    } catch (err) {
      this.logger?.warn('durable feature read failed', { error: String(err) });
      return counters;
    }
    const fills: [string, Counter][] = [];
    missing.forEach((i, j) => {
      const c = durable[j] ?? { impressions: 0, clicks: 0 };
      counters[i] = c;
      fills.push([this.redisKey(keys[i]!), c]);
    });
    // Only when Redis answered (it merely missed); sent now but not awaited: the reply is not
    // needed, and commands on one connection run in order, so later reads and records see it.
    if (cached !== undefined) this.fill(fills);
    return counters;
  }

  private async readRedis(keys: readonly CounterKey[]): Promise<(Counter | undefined)[]> {
    const p = this.redis.pipeline();
    // The whole hash: the few buckets a trimmed hash holds cost less than naming 50 fields.
    for (const k of keys) p.hgetall(this.redisKey(k));
    const replies = (await execPipeline(p)) as Record<string, string>[];
    return replies.map((fields) => {
      if (fields.i === undefined && fields.c === undefined) return undefined;
      const hours = parseBuckets(fields);
      return {
        impressions: Number(fields.i ?? 0),
        clicks: Number(fields.c ?? 0),
        ...(hours.size > 0 ? { hours } : {}),
      };
    });
  }

  private fill(fills: readonly [string, Counter][]): void {
    const oldest = oldestLiveHour(this.clock.now().getTime());
    this.breaker
      .run(() => {
        const p = this.redis.pipeline() as FeaturePipeline;
        for (const [key, c] of fills) {
          p.adclickFillCounter(
            key,
            c.impressions,
            c.clicks,
            this.counterTtlMs,
            oldest,
            ...bucketFieldValues(c.hours, oldest),
          );
        }
        return execPipeline(p);
      })
      .catch((err: unknown) => {
        if (!(err instanceof CircuitOpenError)) this.logger?.warn('redis feature fill failed', { error: String(err) });
      });
  }
}
