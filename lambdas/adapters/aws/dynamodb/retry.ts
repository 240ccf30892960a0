/**
 * What the DynamoDB adapters share: the conditional-check test, capped exponential backoff with
 * full jitter under a total deadline, BatchGetItem over any number of keys, and a bounded map.
 */
import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DependencyUnavailableError } from '../../../core/errors.js';
import { type BackoffOptions, fullJitterDelay, realTiming } from '../backoff.js';

export type Item = Record<string, unknown>;

export function isConditionalCheckFailed(err: unknown): boolean {
  return (err as { name?: string } | null)?.name === 'ConditionalCheckFailedException';
}

/** The shared backoff's options, all given: first ceiling, cap, and the total deadline. */
export type RetryPolicy = Required<BackoffOptions>;

/** Inside a request's latency budget: a few short retries, then the caller hears why. */
export const DEFAULT_RETRY: RetryPolicy = { baseDelayMs: 20, maxDelayMs: 400, maxTotalMs: 2_000 };

/** The jittered wait before retry `attempt` (0-based) under `policy`. */
export function backoffMs(attempt: number, policy: RetryPolicy): number {
  return fullJitterDelay(attempt, policy, realTiming.random);
}

/** BatchGetItem's limit of keys per request. */
export const BATCH_GET_MAX_KEYS = 100;

/**
 * Reads the items of `keys` (distinct key values of `keyName`) with BatchGetItem, at most 100 per
 * request and the requests in parallel; keys the service returns unprocessed (throttling, the
 * 16 MB response limit) are asked for again after a jittered backoff until `policy.maxTotalMs`,
 * then the read fails with a DependencyUnavailableError. Returns the found items by key.
 */
export async function batchGetByKey(
  doc: DynamoDBDocumentClient,
  tableName: string,
  keyName: string,
  keys: readonly string[],
  options: { consistentRead: boolean; policy?: RetryPolicy },
): Promise<Map<string, Item>> {
  const policy = options.policy ?? DEFAULT_RETRY;
  const found = new Map<string, Item>();
  const chunks: string[][] = [];
  for (let i = 0; i < keys.length; i += BATCH_GET_MAX_KEYS) chunks.push(keys.slice(i, i + BATCH_GET_MAX_KEYS));
  await Promise.all(
    chunks.map(async (chunk) => {
      const started = Date.now();
      let pending: Item[] = chunk.map((k) => ({ [keyName]: k }));
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > 0) {
          if (Date.now() - started >= policy.maxTotalMs) {
            throw new DependencyUnavailableError(
              `DynamoDB left ${pending.length} keys of ${tableName} unprocessed for ${policy.maxTotalMs} ms.`,
            );
          }
          await realTiming.sleep(backoffMs(attempt - 1, policy));
        }
        const out = await doc.send(
          new BatchGetCommand({
            RequestItems: { [tableName]: { Keys: pending, ConsistentRead: options.consistentRead } },
          }),
        );
        for (const item of out.Responses?.[tableName] ?? []) found.set(item[keyName] as string, item);
        pending = (out.UnprocessedKeys?.[tableName]?.Keys ?? []) as Item[];
      }
    }),
  );
  return found;
}

/**
 * Runs `fn` over the items with at most `limit` calls in flight and waits for all of them, so a
 * failure never leaves writes running behind the caller's back; then rethrows the first failure.
 */
export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let failure: { error: unknown } | undefined;
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i]!, i);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
  return results;
}
