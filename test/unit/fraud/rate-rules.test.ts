import { describe, expect, it } from 'vitest';
import { clicksFrom, detector, feedOneByOne, flagOf, ids, MINUTE, SECOND } from './helpers.js';

describe('clicks per user per minute', () => {
  it('flags a user with six clicks inside a minute, all six of them', async () => {
    // Prepare
    const d = detector();
    const events = clicksFrom('bot', 6, 10 * SECOND, { userId: 'bot-user' });

    // Act
    const flags = await d.inspect(events);

    // Assess
    expect(ids(flags)).toEqual(['bot-c0', 'bot-c1', 'bot-c2', 'bot-c3', 'bot-c4', 'bot-c5']);
    expect(flags.every((f) => f.rule === 'user_click_rate')).toBe(true);
    expect(flagOf(flags, 'bot-c5')!.detail).toMatchObject({ user_limit: 5, window_ms: MINUTE });
  });

  it('does not flag five clicks inside a minute', async () => {
    // Prepare
    const d = detector();

    // Act
    const flags = await d.inspect(clicksFrom('busy', 5, SECOND, { userId: 'busy-user' }));

    // Assess
    expect(flags).toEqual([]);
  });

  it('does not flag six clicks whose first and last are exactly a minute apart, and flags them a millisecond closer', async () => {
    // Prepare
    const apart = detector();
    const closer = detector();

    // Act
    const exactly = await apart.inspect(clicksFrom('a', 6, 12 * SECOND, { userId: 'u-a' }));
    const inside = await closer.inspect(clicksFrom('b', 6, 12 * SECOND - 1, { userId: 'u-b' }));

    // Assess
    expect(exactly).toEqual([]);
    expect(inside).toHaveLength(6);
  });

  it('flags the earlier clicks of the window later, in the inspection where the limit is crossed', () => {
    // Prepare
    const d = detector();
    const events = clicksFrom('bot', 7, 5 * SECOND, { userId: 'bot-user' });
    const impressions = events.filter((e) => e.kind === 'impression');
    const clicks = events.filter((e) => e.kind === 'click');
    d.inspectNow(impressions);

    // Act
    const perClick = clicks.map((c) => ids(d.inspectNow([c])));

    // Assess
    expect(perClick.slice(0, 5)).toEqual([[], [], [], [], []]);
    expect(perClick[5]).toEqual(['bot-c0', 'bot-c1', 'bot-c2', 'bot-c3', 'bot-c4', 'bot-c5']);
    expect(perClick[6]).toEqual(['bot-c6']);
  });

  it("counts a click that names no user against its impression's user", async () => {
    // Prepare
    const d = detector();
    const events = clicksFrom('anon', 6, 5 * SECOND, { userId: 'same-user' }).map((e) =>
      e.kind === 'click' ? { ...e, userId: null } : e,
    );

    // Act
    const flags = await d.inspect(events);

    // Assess
    expect(flags).toHaveLength(6);
    expect(flags[0]).toMatchObject({ rule: 'user_click_rate', userId: null });
  });

  it('forgets users idle for two windows', () => {
    // Prepare
    const d = detector();
    d.inspectNow(clicksFrom('once', 50, 100));
    const before = d.stats().trackedUsers;

    // Act
    d.inspectNow(clicksFrom('later', 1, 1, { startMs: 3 * MINUTE }));

    // Assess
    expect(before).toBe(50);
    expect(d.stats().trackedUsers).toBe(1);
  });

  it('keeps at most twice maxTrackedKeys users however many click', () => {
    // Prepare
    const d = detector({ maxTrackedKeys: 10 });

    // Act
    d.inspectNow(clicksFrom('crowd', 1_000, 10));

    // Assess
    expect(d.stats().clicks).toBe(1_000);
    expect(d.stats().trackedUsers).toBeLessThanOrEqual(20);
    expect(d.stats().trackedIps).toBeLessThanOrEqual(20);
  });
});

describe('clicks per IP per minute', () => {
  it('flags 31 clicks from one IP inside a minute, even from 31 different users', async () => {
    // Prepare
    const d = detector();

    // Act
    const flags = await d.inspect(clicksFrom('nat', 31, SECOND, { ip: 'ip-bot' }));

    // Assess
    expect(flags).toHaveLength(31);
    expect(flags.every((f) => f.rules.includes('ip_click_rate'))).toBe(true);
    expect(flags.some((f) => f.rules.includes('user_click_rate'))).toBe(false);
    expect(flags[0]!.detail).toMatchObject({ ip_limit: 30 });
  });

  it('does not flag 30 clicks from a shared IP inside a minute', async () => {
    // Prepare
    const d = detector();

    // Act
    const flags = await d.inspect(clicksFrom('nat', 30, SECOND, { ip: 'ip-carrier' }));

    // Assess
    expect(flags).toEqual([]);
  });

  it('scores a tighter burst higher', () => {
    // Prepare
    const slow = detector();
    const fast = detector();

    // Act
    const slowFlags = feedOneByOne(slow, clicksFrom('s', 31, 1_900, { ip: 'ip-s' }));
    const fastFlags = feedOneByOne(fast, clicksFrom('f', 31, 100, { ip: 'ip-f' }));

    // Assess
    expect(slowFlags[0]!.score).toBeGreaterThanOrEqual(0.5);
    expect(fastFlags[0]!.score).toBeGreaterThan(slowFlags[0]!.score);
    expect(fastFlags[0]!.score).toBeLessThan(1);
  });
});
