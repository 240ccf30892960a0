import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { FeatureMap, Logger, PredictionCache, PredictionCacheKey, ScoreResult } from '../../../core/ports.js';
import { CircuitBreaker, CircuitOpenError } from './circuit-breaker.js';

export type { PredictionCacheKey };

export interface RedisPredictionCacheOptions {
  readonly keyPrefix?: string;
  /** Short: a cached score goes stale as the counters it was computed from move. */
  readonly ttlMs?: number;
  /** Shared with the feature store, which uses the same connection. */
  readonly breaker?: CircuitBreaker;
  readonly logger?: Logger;
}

/** Key order does not change the hash: `{a, b}` and `{b, a}` are the same context. */
export function contextHash(context: FeatureMap): string {
  const entries = Object.keys(context)
    .sort()
    .map((k) => [k, context[k]]);
  return createHash('sha256').update(JSON.stringify(entries)).digest('base64url');
}

/** A cached entry, or undefined for a miss or anything unreadable (a cache never fails a request). */
function parse(raw: string | null): ScoreResult | undefined {
  if (raw === null) return undefined;
  try {
    const value: unknown = JSON.parse(raw);
    return isScoreResult(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function isScoreResult(v: unknown): v is ScoreResult {
  if (typeof v !== 'object' || v === null) return false;
  const p = (v as { probability?: unknown }).probability;
  return typeof p === 'number' && p >= 0 && p <= 1;
}

/**
 * Scores cached for a short time, keyed by model version, user, ad and a hash of the context.
 * A cache must never fail or slow a request: get answers undefined (a miss) and set does nothing
 * when Redis fails or its circuit is open. A fallback score is not cached, so it does not outlive
 * the endpoint's outage.
 */
export class RedisPredictionCache implements PredictionCache {
  private readonly prefix: string;
  private readonly ttlMs: number;
  private readonly breaker: CircuitBreaker;
  private readonly logger: Logger | undefined;

  constructor(
    private readonly redis: Redis,
    options: RedisPredictionCacheOptions = {},
  ) {
    this.prefix = `${options.keyPrefix ?? 'adclick:'}pc:`;
    this.ttlMs = options.ttlMs ?? 30_000;
    this.breaker = options.breaker ?? new CircuitBreaker({ name: 'redis' });
    this.logger = options.logger;
  }

  /**
   * The model version stays readable (and a prefix, so a version's entries can be found); the
   * rest is hashed, which bounds the key's length and lets ids hold any character.
   */
  key(k: PredictionCacheKey): string {
    const who = createHash('sha256')
      .update(JSON.stringify([k.userKey, k.adId, contextHash(k.context)]))
      .digest('base64url');
    return `${this.prefix}${k.modelVersion}:${who}`;
  }

  async get(k: PredictionCacheKey): Promise<ScoreResult | undefined> {
    return (await this.getMany([k]))[0];
  }

  async set(k: PredictionCacheKey, result: ScoreResult): Promise<void> {
    await this.setMany([{ key: k, result }]);
  }

  /** One MGET for a whole batch request. */
  async getMany(keys: readonly PredictionCacheKey[]): Promise<(ScoreResult | undefined)[]> {
    if (keys.length === 0) return [];
    let raw: (string | null)[];
    try {
      raw = await this.breaker.run(() => this.redis.mget(keys.map((k) => this.key(k))));
    } catch (err) {
      this.report('get', err);
      return keys.map(() => undefined);
    }
    return keys.map((_, i) => parse(raw[i] ?? null));
  }

  /** One pipeline of SET … PX for the batch; fallback scores are skipped. */
  async setMany(entries: readonly { key: PredictionCacheKey; result: ScoreResult }[]): Promise<void> {
    const kept = entries.filter((e) => e.result.fallback !== true);
    if (kept.length === 0) return;
    try {
      await this.breaker.run(async () => {
        const pipeline = this.redis.pipeline();
        for (const e of kept)
          pipeline.set(this.key(e.key), JSON.stringify({ probability: e.result.probability }), 'PX', this.ttlMs);
        const results = await pipeline.exec();
        const failed = results?.find(([err]) => err !== null);
        if (failed) throw failed[0];
      });
    } catch (err) {
      this.report('set', err);
    }
  }

  private report(op: string, err: unknown): void {
    if (!(err instanceof CircuitOpenError))
      this.logger?.warn(`redis prediction cache ${op} failed`, { error: String(err) });
  }
}
