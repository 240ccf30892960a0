import { describe, expect, it } from 'vitest';
import { createPageGenerator, type Page, type PageOptions } from '../../../sagemaker/traffic/index.js';

const START = Date.parse('2026-03-02T06:00:00Z');
const HOUR = 3_600_000;

function pages(options: Partial<PageOptions> & { requests: number }): Page[] {
  const generator = createPageGenerator({ startMs: START, endMs: START + 2 * HOUR, ...options });
  const out: Page[] = [];
  for (let p = generator.next(); p; p = generator.next()) out.push(p);
  return out;
}

describe('createPageGenerator', () => {
  it('gives the same pages for the same seed', () => {
    // Act
    const a = pages({ seed: 7, requests: 300, fraud: 0.1, drift: 0.8 });
    const b = pages({ seed: 7, requests: 300, fraud: 0.1, drift: 0.8 });

    // Assess
    expect(a).toEqual(b);
  });

  it('gives other pages for another seed', () => {
    // Act
    const a = pages({ seed: 1, requests: 50 });
    const b = pages({ seed: 2, requests: 50 });

    // Assess
    expect(a.map((p) => p.user_id)).not.toEqual(b.map((p) => p.user_id));
  });

  it('fills the window in time order, more in busy hours than in quiet ones', () => {
    // Prepare: 06:00 to 08:00 UTC, where the daily curve rises (0.45 then 0.75).
    const all = pages({ requests: 4000 });

    // Act
    const times = all.map((p) => p.timeMs);
    const firstHour = times.filter((t) => t < START + HOUR).length;

    // Assess
    expect(times[0]).toBeGreaterThanOrEqual(START);
    expect(times.at(-1)).toBeLessThanOrEqual(START + 2 * HOUR);
    expect(times.every((t, i) => i === 0 || t >= times[i - 1]!)).toBe(true);
    expect(firstHour / (times.length - firstHour)).toBeCloseTo(0.45 / 0.75, 1);
  });

  it('draws users and ads with a Zipf-like skew', () => {
    // Prepare
    const all = pages({ requests: 5000 });

    // Act
    const topShare = (ids: string[], top: number) => {
      const counts = new Map<string, number>();
      for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
      const sorted = [...counts.values()].sort((x, y) => y - x);
      return sorted.slice(0, top).reduce((a, b) => a + b, 0) / ids.length;
    };
    const users = topShare(
      all.map((p) => p.user_id),
      200,
    );
    const ads = topShare(
      all.flatMap((p) => p.candidates.map((c) => c.ad_id)),
      30,
    );

    // Assess: 1 % of the 20 000 users and 10 % of the 300 ads take far more than their share.
    expect(users).toBeGreaterThan(0.15);
    expect(ads).toBeGreaterThan(0.3);
  });

  it('puts distinct candidates in slots 1..k with the top slot clicked more', () => {
    // Prepare
    const all = pages({ requests: 3000, candidates: 4 });

    // Act
    const meanBySlot = [1, 2, 3, 4].map((slot) => {
      const ps = all.map((p) => p.candidates.find((c) => c.position === slot)!.trueProbability);
      return ps.reduce((a, b) => a + b, 0) / ps.length;
    });

    // Assess
    for (const p of all) {
      expect(p.candidates.map((c) => c.position)).toEqual([1, 2, 3, 4]);
      expect(new Set(p.candidates.map((c) => c.ad_id)).size).toBe(4);
    }
    expect(meanBySlot[0]).toBeGreaterThan(meanBySlot[3]!);
  });

  it('changes the true probability of the drifting categories after the midpoint only', () => {
    // Prepare
    const generator = createPageGenerator({ startMs: START, endMs: START + 2 * HOUR, requests: 2000, drift: 1 });
    const steady = pages({ requests: 2000 });
    const drifting = pages({ requests: 2000, drift: 1 });
    const { driftAtMs, driftUp } = generator.truth;
    const categoryOf = new Map(generator.world.catalogue.map((ad) => [ad.ad_id, ad.category]));

    // Act
    const changed = (before: boolean) =>
      drifting.flatMap((p, i) =>
        p.timeMs < driftAtMs! === before
          ? p.candidates.map((c, k) => ({ c, was: steady[i]!.candidates[k]!.trueProbability }))
          : [],
      );

    // Assess
    expect(changed(true).every(({ c, was }) => c.trueProbability === was)).toBe(true);
    const after = changed(false).filter(({ c }) => categoryOf.get(c.ad_id) === driftUp);
    expect(after.length).toBeGreaterThan(0);
    expect(after.every(({ c, was }) => c.trueProbability > was)).toBe(true);
  });

  it('starts drifted from the first page when the drift began before the window (a second run)', () => {
    // Prepare
    const steady = pages({ requests: 500 });
    const generator = createPageGenerator({ startMs: START, endMs: START + 2 * HOUR, requests: 500, drift: 1 });
    const categoryOf = new Map(generator.world.catalogue.map((ad) => [ad.ad_id, ad.category]));

    // Act
    const continued = pages({ requests: 500, drift: 1, driftAtMs: START - HOUR });

    // Assess: in the first quarter hour the rising category is already up
    const early = continued.flatMap((p, i) =>
      p.timeMs < START + HOUR / 4
        ? p.candidates.flatMap((c, k) =>
            categoryOf.get(c.ad_id) === generator.truth.driftUp
              ? [{ now: c.trueProbability, was: steady[i]!.candidates[k]!.trueProbability }]
              : [],
          )
        : [],
    );
    expect(early.length).toBeGreaterThan(0);
    expect(early.every(({ now, was }) => now > was)).toBe(true);
  });

  it('sends the same honest users and sites with fraud on, and labels every bot page', () => {
    // Act
    const honest = pages({ requests: 1000 });
    const withFraud = pages({ requests: 1000, fraud: 0.2 });

    // Assess
    const bots = withFraud.filter((p) => p.bot);
    expect(bots.length).toBeGreaterThan(50);
    expect(bots.every((p) => p.user_id.startsWith('bot_') && p.candidates.every((c) => !c.clicked))).toBe(true);
    withFraud.forEach((p, i) => {
      if (!p.bot) expect([p.user_id, p.site_id]).toEqual([honest[i]!.user_id, honest[i]!.site_id]);
    });
    expect(withFraud.some((p) => p.injectedClickDelayMs !== null && p.injectedClickDelayMs < 1000)).toBe(true);
  });

  it('refuses a fraud share above one half', () => {
    // Act / Assess
    expect(() => createPageGenerator({ startMs: START, endMs: START + HOUR, requests: 10, fraud: 0.6 })).toThrow(
      /fraud must be a number in \[0, 0.5\]/,
    );
  });
});
