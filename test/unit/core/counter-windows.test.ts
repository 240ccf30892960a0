import { describe, expect, it } from 'vitest';
import { counterFeatures, HOUR_MS } from '../../../lambdas/core/features/counter-windows.js';

// 30 minutes into an hour, so the edge bucket of each window weighs one half.
const NOW = 500_000 * HOUR_MS + HOUR_MS / 2;
const HOUR = 500_000;

const counter = {
  impressions: 120,
  clicks: 3,
  hours: new Map([
    [HOUR, { impressions: 5, clicks: 1 }],
    [HOUR - 1, { impressions: 8, clicks: 0 }],
    [HOUR - 24, { impressions: 4, clicks: 2 }],
    [HOUR - 30, { impressions: 50, clicks: 9 }],
  ]),
};

describe('counterFeatures', () => {
  it('gives a user and an ad the same eight features under their own prefix', () => {
    // Prepare / Act
    const user = counterFeatures('user', counter, NOW);
    const ad = counterFeatures('ad', counter, NOW);

    // Assess: same names in the same order, same numbers
    const suffixes = (f: Record<string, unknown>, prefix: string) =>
      Object.keys(f).map((k) => k.slice(prefix.length + 1));
    expect(suffixes(user, 'user')).toEqual([
      'impressions',
      'clicks',
      'ctr',
      'impressions_1h',
      'clicks_1h',
      'impressions_24h',
      'clicks_24h',
      'ctr_24h',
    ]);
    expect(suffixes(ad, 'ad')).toEqual(suffixes(user, 'user'));
    expect(Object.values(ad)).toEqual(Object.values(user));
  });

  it('counts whole buckets and half of the edge bucket 30 minutes into the hour', () => {
    // Act
    const f = counterFeatures('user', counter, NOW);

    // Assess: 1 h = this hour + half of the last; 24 h = 23 whole hours + half of hour −24
    expect(f).toEqual({
      user_impressions: 120,
      user_clicks: 3,
      user_ctr: (3 + 0.02 * 20) / (120 + 20),
      user_impressions_1h: 5 + 8 / 2,
      user_clicks_1h: 1,
      user_impressions_24h: 5 + 8 + 4 / 2,
      user_clicks_24h: 1 + 2 / 2,
      user_ctr_24h: (2 + 0.02 * 20) / (15 + 20),
    });
  });

  it('starts a counter never seen at the prior CTR', () => {
    // Act
    const f = counterFeatures('ad', undefined, NOW);

    // Assess
    expect(f.ad_impressions).toBe(0);
    expect(f.ad_ctr).toBeCloseTo(0.02, 12);
    expect(f.ad_ctr_24h).toBeCloseTo(0.02, 12);
  });
});
