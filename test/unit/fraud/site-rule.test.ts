import { describe, expect, it } from 'vitest';
import { normalQuantile } from '../../../lambdas/core/fraud/stats.js';
import type { FraudEvent } from '../../../lambdas/core/ports.js';
import { byTime, click, detector, impression, SECOND } from './helpers.js';

interface SiteSpec {
  readonly id: string;
  readonly ctr: number;
  readonly impressions: number;
}

/**
 * Traffic of several sites interleaved in time (one impression every `spacingMs`, sites in turn),
 * each impression from its own user and IP, clicks evenly spread at exactly the site's CTR, each
 * click 5 s after its impression: only the site rule can have anything to say.
 */
function siteTraffic(sites: readonly SiteSpec[], spacingMs = 50): FraudEvent[] {
  const events: FraudEvent[] = [];
  const served = sites.map(() => 0);
  let t = 0;
  while (served.some((n, s) => n < sites[s]!.impressions)) {
    sites.forEach((site, s) => {
      const j = served[s]!;
      if (j >= site.impressions) return;
      served[s] = j + 1;
      const id = `${site.id}-i${j}`;
      events.push(impression(id, t, { siteId: site.id }));
      if (Math.floor((j + 1) * site.ctr) > Math.floor(j * site.ctr)) {
        events.push(click(`${site.id}-c${j}`, id, t + 5 * SECOND, { userId: `user-of-${id}`, ip: `ip-of-${id}` }));
      }
      t += spacingMs;
    });
  }
  return byTime(events);
}

/** `count` honest sites whose CTR log-odds spread around 2 % with standard deviation `sd`. */
function honestSites(count: number, impressions: number, sd = 0.35): SiteSpec[] {
  const base = Math.log(0.02 / 0.98);
  return Array.from({ length: count }, (_, k) => {
    const logit = base + sd * normalQuantile((k + 0.5) / count);
    return { id: `site-${k}`, ctr: 1 / (1 + Math.exp(-logit)), impressions };
  });
}

const clicksOf = (events: readonly FraudEvent[], site: string) =>
  events.filter((e) => e.kind === 'click' && e.id.startsWith(`${site}-`)).length;

describe('a site whose CTR is far above its peers', () => {
  it("flags the inflating site's clicks and none of its peers'", async () => {
    // Prepare
    const d = detector({ siteRefreshEvents: 200 });
    const events = siteTraffic([...honestSites(12, 2_000), { id: 'inflated', ctr: 0.1, impressions: 2_000 }]);

    // Act
    const flags = await d.inspect(events);

    // Assess
    expect(flags.length).toBeGreaterThan(clicksOf(events, 'inflated') / 2);
    expect(flags.every((f) => f.siteId === 'inflated' && f.rule === 'site_ctr_outlier')).toBe(true);
    expect(flags[0]!.detail).toMatchObject({ peer_ctr: expect.any(Number), site_z: expect.any(Number) });
    expect(flags[0]!.detail.site_z as number).toBeGreaterThanOrEqual(flags[0]!.detail.site_z_critical as number);
  });

  it('flags the earlier clicks of the site in the window too when it crosses the threshold', async () => {
    // Prepare
    const events = siteTraffic([...honestSites(12, 2_000), { id: 'inflated', ctr: 0.1, impressions: 2_000 }]);
    const forgetful = detector({ siteRefreshEvents: 200, recentClicks: 0 });
    const remembering = detector({ siteRefreshEvents: 200 });

    // Act
    const without = await forgetful.inspect(events);
    const withRecent = await remembering.inspect(events);

    // Assess
    expect(withRecent).toHaveLength(clicksOf(events, 'inflated'));
    expect(without.length).toBeLessThan(withRecent.length);
  });

  it('says nothing of a site with fewer impressions than the minimum', async () => {
    // Prepare
    const d = detector({ siteRefreshEvents: 200 });
    const events = siteTraffic([...honestSites(12, 2_000), { id: 'inflated', ctr: 0.1, impressions: 999 }]);

    // Act
    const flags = await d.inspect(events);

    // Assess
    expect(flags).toEqual([]);
  });

  it('says nothing while fewer peers than the minimum have enough impressions', async () => {
    // Prepare
    const d = detector({ siteRefreshEvents: 200 });
    const events = siteTraffic([...honestSites(9, 2_000), { id: 'inflated', ctr: 0.1, impressions: 2_000 }]);

    // Act
    const flags = await d.inspect(events);

    // Assess
    expect(flags).toEqual([]);
  });

  it('does not flag honest sites that differ as much as honest sites do', async () => {
    // Prepare
    const d = detector({ siteRefreshEvents: 500 });
    const events = siteTraffic(honestSites(40, 3_000), 20);

    // Act
    const flags = await d.inspect(events);

    // Assess
    expect(d.stats().clicks).toBeGreaterThan(2_000);
    expect(flags).toEqual([]);
  });
});
