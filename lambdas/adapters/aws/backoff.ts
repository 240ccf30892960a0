/** Capped exponential backoff with full jitter, within a total time budget: shared by the AWS adapters. */

export interface BackoffOptions {
  /** Upper bound of the first delay. Default 50 ms. */
  readonly baseDelayMs?: number;
  /** Cap on any one delay. Default 1 000 ms. */
  readonly maxDelayMs?: number;
  /** Total time an append may spend, sends and waits included, before it gives up. Default 3 000 ms. */
  readonly maxTotalMs?: number;
}

export interface Timing {
  /** Milliseconds on a monotonic-enough clock. Default Date.now. */
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  /** Uniform in [0, 1). Default Math.random. */
  readonly random: () => number;
}

export const DEFAULT_BACKOFF: Required<BackoffOptions> = { baseDelayMs: 50, maxDelayMs: 1_000, maxTotalMs: 3_000 };

export const realTiming: Timing = {
  now: Date.now,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: Math.random,
};

/**
 * The wait before retry number `attempt` (0-based): uniform in [0, min(cap, base·2^attempt)),
 * so that clients throttled together do not retry together ("full jitter").
 */
export function fullJitterDelay(attempt: number, options: Required<BackoffOptions>, random: () => number): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}
