import { describe, expect, it } from 'vitest';
import { CircuitBreaker, CircuitOpenError } from '../../../lambdas/adapters/aws/redis/circuit-breaker.js';

function fixture(options: { failureThreshold?: number; coolDownMs?: number } = {}) {
  let now = 0;
  const breaker = new CircuitBreaker({
    name: 'dep',
    failureThreshold: 3,
    coolDownMs: 1_000,
    now: () => now,
    ...options,
  });
  let calls = 0;
  const ok = () => breaker.run(async () => ++calls);
  const fail = () =>
    breaker.run(async () => {
      calls++;
      throw new Error('boom');
    });
  return {
    breaker,
    ok,
    fail,
    calls: () => calls,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('CircuitBreaker', () => {
  it('stays closed below the failure threshold and passes errors through', async () => {
    const f = fixture();

    await expect(f.fail()).rejects.toThrow('boom');
    await expect(f.fail()).rejects.toThrow('boom');

    expect(f.breaker.state).toBe('closed');
    expect(f.calls()).toBe(2);
  });

  it('counts only consecutive failures: a success resets the count', async () => {
    const f = fixture();

    await f.fail().catch(() => {});
    await f.fail().catch(() => {});
    await f.ok();
    await f.fail().catch(() => {});
    await f.fail().catch(() => {});

    expect(f.breaker.state).toBe('closed');
  });

  it('opens after N consecutive failures and then rejects without calling the dependency', async () => {
    const f = fixture();
    for (let i = 0; i < 3; i++) await f.fail().catch(() => {});

    const before = f.calls();
    const err = await f.ok().catch((e: unknown) => e);

    expect(f.breaker.state).toBe('open');
    expect(err).toBeInstanceOf(CircuitOpenError);
    expect(f.calls()).toBe(before);
  });

  it('lets one probe through after the cool-down and closes when it succeeds', async () => {
    const f = fixture();
    for (let i = 0; i < 3; i++) await f.fail().catch(() => {});

    f.advance(999);
    await expect(f.ok()).rejects.toBeInstanceOf(CircuitOpenError);
    f.advance(1);
    expect(f.breaker.state).toBe('half-open');
    await f.ok();

    expect(f.breaker.state).toBe('closed');
  });

  it('re-opens for a whole cool-down when the probe fails', async () => {
    const f = fixture();
    for (let i = 0; i < 3; i++) await f.fail().catch(() => {});
    f.advance(1_000);

    await expect(f.fail()).rejects.toThrow('boom');
    f.advance(999);

    expect(f.breaker.state).toBe('open');
    await expect(f.ok()).rejects.toBeInstanceOf(CircuitOpenError);
  });

  it('rejects other calls while the probe is in flight', async () => {
    const f = fixture();
    for (let i = 0; i < 3; i++) await f.fail().catch(() => {});
    f.advance(1_000);
    let release!: () => void;
    const probe = f.breaker.run(() => new Promise<void>((r) => (release = r)));

    const concurrent = await f.ok().catch((e: unknown) => e);
    release();
    await probe;

    expect(concurrent).toBeInstanceOf(CircuitOpenError);
    expect(f.breaker.state).toBe('closed');
  });
});
