import { Redis, type RedisOptions } from 'ioredis';

/**
 * Settings for the predict path's latency budget (≤ 20 ms for features): a connect that does not
 * finish in 20 ms and a command without a reply in 15 ms fail, no command waits in an offline
 * queue or is retried, so a dead or slow Redis fails fast and the circuit breaker takes over.
 * Reconnection goes on in the background, capped at one attempt a second.
 */
export const REDIS_LATENCY_DEFAULTS = {
  connectTimeout: 20,
  commandTimeout: 15,
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  autoResendUnfulfilledCommands: false,
  retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 5), 1_000),
} as const satisfies RedisOptions;

/**
 * The one Redis connection of a container, made by the composition root (never per request).
 * `url` is `redis://` or `rediss://` (TLS, as ElastiCache in transit encryption needs); options
 * override the defaults above.
 */
export function createRedisClient(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, { ...REDIS_LATENCY_DEFAULTS, ...options });
}

/** Resolves once the client is ready, or after `timeoutMs` (the store then degrades, it does not fail). */
export async function waitUntilReady(client: Redis, timeoutMs: number): Promise<boolean> {
  if (client.status === 'ready') return true;
  return new Promise((resolve) => {
    const done = (ready: boolean) => {
      clearTimeout(timer);
      client.off('ready', onReady);
      resolve(ready);
    };
    const onReady = () => done(true);
    const timer = setTimeout(() => done(false), timeoutMs);
    client.on('ready', onReady);
  });
}
