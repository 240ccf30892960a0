import { describe, expect, it } from 'vitest';
import { click, detector, flagOf, ids, impression, MINUTE, SECOND } from './helpers.js';

describe('clicks before or too soon after their impression', () => {
  it('flags a click 999 ms after its impression and not one 1 000 ms after', async () => {
    // Prepare
    const d = detector();

    // Act
    const flags = await d.inspect([
      impression('i-1', 0),
      impression('i-2', 0),
      click('c-1', 'i-1', 999),
      click('c-2', 'i-2', 1_000),
    ]);

    // Assess
    expect(ids(flags)).toEqual(['c-1']);
    expect(flags[0]).toMatchObject({ rule: 'click_too_fast', detail: { delay_ms: 999, min_delay_ms: 1_000 } });
  });

  it('flags a click timed a millisecond before its impression', async () => {
    // Prepare
    const d = detector();

    // Act
    const flags = await d.inspect([impression('i-1', 0), click('c-1', 'i-1', -1)]);

    // Assess
    expect(flags).toHaveLength(1);
    expect(flags[0]).toMatchObject({ eventId: 'c-1', rule: 'click_before_impression', detail: { delay_ms: -1 } });
  });

  it('scores a faster click higher', async () => {
    // Prepare
    const d = detector();

    // Act
    const flags = await d.inspect([
      impression('i-1', 0),
      impression('i-2', 0),
      click('c-fast', 'i-1', 100),
      click('c-slow', 'i-2', 900),
    ]);

    // Assess
    expect(flagOf(flags, 'c-fast')!.score).toBeGreaterThan(flagOf(flags, 'c-slow')!.score);
    expect(flagOf(flags, 'c-slow')!.score).toBeGreaterThanOrEqual(0.5);
  });

  it('judges a click that arrives before its impression once the impression arrives', () => {
    // Prepare
    const d = detector();
    const early = d.inspectNow([click('c-1', 'i-1', 200, { userId: 'u-1' })]);

    // Act
    const later = d.inspectNow([impression('i-1', 0)]);

    // Assess
    expect(early).toEqual([]);
    expect(later).toHaveLength(1);
    expect(later[0]).toMatchObject({ eventId: 'c-1', rule: 'click_too_fast', userId: 'u-1', atMs: expect.any(Number) });
    expect(d.stats().clicksWaiting).toBe(0);
  });

  it('does not flag a click that arrives before its impression when its timing is plausible', () => {
    // Prepare
    const d = detector();
    d.inspectNow([click('c-1', 'i-1', 8 * SECOND)]);

    // Act
    const flags = d.inspectNow([impression('i-1', 0)]);

    // Assess
    expect(flags).toEqual([]);
    expect(d.stats().clicksWaiting).toBe(0);
  });

  it('gives up on a click whose impression never arrives, without flagging it', () => {
    // Prepare
    const d = detector({ pendingClickTtlMs: MINUTE });
    const flags = d.inspectNow([click('c-1', 'never-seen', 0)]);

    // Act
    d.inspectNow([impression('i-later', 3 * MINUTE)]);

    // Assess
    expect(flags).toEqual([]);
    expect(d.stats()).toMatchObject({ clicksWaiting: 0, clicksUnmatched: 1 });
  });

  it('ignores an explicit non-click', async () => {
    // Prepare
    const d = detector();

    // Act
    const flags = await d.inspect([impression('i-1', 0), click('c-1', 'i-1', 0, { clicked: false })]);

    // Assess
    expect(flags).toEqual([]);
    expect(d.stats().clicks).toBe(0);
  });
});

describe('duplicate clicks', () => {
  it('flags a second click id on an impression already clicked, not the first', async () => {
    // Prepare
    const d = detector();

    // Act
    const flags = await d.inspect([
      impression('i-1', 0),
      click('c-1', 'i-1', 5 * SECOND),
      click('c-2', 'i-1', 40 * SECOND),
    ]);

    // Assess
    expect(ids(flags)).toEqual(['c-2']);
    expect(flags[0]).toMatchObject({ rule: 'duplicate_click', detail: { clicks_on_impression: 2 } });
  });

  it('does not flag a replay of the same click id', async () => {
    // Prepare
    const d = detector();

    // Act
    const flags = await d.inspect([
      impression('i-1', 0),
      click('c-1', 'i-1', 5 * SECOND),
      click('c-1', 'i-1', 5 * SECOND),
    ]);

    // Assess
    expect(flags).toEqual([]);
    expect(d.stats().clickReplays).toBe(1);
  });

  it('scores a third click on the same impression higher than the second', async () => {
    // Prepare
    const d = detector();

    // Act
    const flags = await d.inspect([
      impression('i-1', 0),
      click('c-1', 'i-1', 5 * SECOND),
      click('c-2', 'i-1', 10 * SECOND),
      click('c-3', 'i-1', 15 * SECOND),
    ]);

    // Assess
    expect(flagOf(flags, 'c-3')!.score).toBeGreaterThan(flagOf(flags, 'c-2')!.score);
  });

  it('does not flag a click as a duplicate of one already flagged as too fast', async () => {
    // Prepare
    const d = detector();

    // Act
    const flags = await d.inspect([
      impression('i-1', 0),
      click('c-injected', 'i-1', 200),
      click('c-person', 'i-1', 7 * SECOND),
      click('c-again', 'i-1', 9 * SECOND),
    ]);

    // Assess
    expect(ids(flags)).toEqual(['c-again', 'c-injected']);
    expect(flagOf(flags, 'c-again')).toMatchObject({ rule: 'duplicate_click', detail: { clicks_on_impression: 3 } });
  });

  it('flags the second of two click ids that both arrived before their impression', () => {
    // Prepare
    const d = detector();
    d.inspectNow([click('c-1', 'i-1', 5 * SECOND), click('c-2', 'i-1', 6 * SECOND)]);

    // Act
    const flags = d.inspectNow([impression('i-1', 0)]);

    // Assess
    expect(ids(flags)).toEqual(['c-2']);
  });

  it('merges the rules that fire on one click into one flag scored above each', async () => {
    // Prepare
    const alone = detector();
    const both = detector();
    const aloneFlags = await alone.inspect([impression('i-1', 0), click('c-1', 'i-1', 300)]);

    // Act
    const flags = await both.inspect([impression('i-1', 0), click('c-0', 'i-1', 5 * SECOND), click('c-1', 'i-1', 300)]);

    // Assess
    expect(flags).toHaveLength(1);
    expect(flags[0]!.rules).toEqual(['click_too_fast', 'duplicate_click']);
    expect(flags[0]!.rule).toBe('click_too_fast');
    expect(flags[0]!.score).toBeGreaterThan(aloneFlags[0]!.score);
    expect(flags[0]!.detail).toMatchObject({ clicks_on_impression: 2, delay_ms: 300 });
  });
});
