/**
 * A clock that moves only when the code under test sleeps (the AWS adapters' `Timing`), so retry
 * budgets run out at once and every wait is recorded.
 */
export interface FakeTiming {
  now(): number;
  sleep(ms: number): Promise<void>;
  random(): number;
  /** Every wait asked for, in order. */
  readonly slept: number[];
}

export function fakeTiming(random = 0.999, start = 1_000_000): FakeTiming {
  let t = start;
  const slept: number[] = [];
  return {
    now: () => t,
    sleep: async (ms) => {
      slept.push(ms);
      t += ms;
    },
    random: () => random,
    slept,
  };
}
