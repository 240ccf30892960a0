import { describe, expect, it } from 'vitest';
import {
  CATEGORIES,
  createSimulator,
  DEVICE_TYPES,
  LOCATIONS,
  simulatedExamples,
} from '../../../sagemaker/simulate.js';

describe('createSimulator', () => {
  it('replays the same catalogue, requests and clicks for the same seed', () => {
    // Prepare
    const a = createSimulator({ seed: 42 });
    const b = createSimulator({ seed: 42 });

    // Act
    const run = (s: typeof a) =>
      Array.from({ length: 200 }, () => {
        const r = s.nextRequest();
        return { ...r, clicked: s.clicks(r.trueProbability) };
      });
    const first = run(a);
    const second = run(b);

    // Assess
    expect(b.ads()).toEqual(a.ads());
    expect(second).toEqual(first);
  });

  it('draws other traffic for another seed', () => {
    // Prepare
    const a = createSimulator({ seed: 1 });
    const b = createSimulator({ seed: 2 });

    // Act
    const pa = Array.from({ length: 50 }, () => a.nextRequest().trueProbability);
    const pb = Array.from({ length: 50 }, () => b.nextRequest().trueProbability);

    // Assess
    expect(pb).not.toEqual(pa);
  });

  it('has an overall click rate between 1 % and 3 %, by its true probability and by its draws', () => {
    // Prepare
    const simulator = createSimulator({ seed: 3 });
    let sumTrue = 0;
    let clicks = 0;
    const n = 100_000;

    // Act
    for (let i = 0; i < n; i++) {
      const r = simulator.nextRequest();
      sumTrue += r.trueProbability;
      if (simulator.clicks(r.trueProbability)) clicks++;
    }

    // Assess
    expect(sumTrue / n).toBeGreaterThan(0.01);
    expect(sumTrue / n).toBeLessThan(0.03);
    expect(clicks / n).toBeGreaterThan(0.01);
    expect(clicks / n).toBeLessThan(0.03);
  });

  it('solves its base for the requested click rate', () => {
    // Prepare
    const simulator = createSimulator({ seed: 4, ctr: 0.01 });
    let sum = 0;

    // Act
    for (let i = 0; i < 50_000; i++) sum += simulator.nextRequest().trueProbability;

    // Assess
    expect(sum / 50_000).toBeGreaterThan(0.009);
    expect(sum / 50_000).toBeLessThan(0.011);
  });

  it('gives lower positions a lower true click probability', () => {
    // Prepare
    const simulator = createSimulator({ seed: 5 });
    const sum = [0, 0, 0, 0, 0];
    const count = [0, 0, 0, 0, 0];

    // Act
    for (let i = 0; i < 100_000; i++) {
      const r = simulator.nextRequest();
      sum[r.features.position - 1]! += r.trueProbability;
      count[r.features.position - 1]!++;
    }

    // Assess
    const mean = sum.map((s, i) => s / count[i]!);
    for (let i = 1; i < 5; i++) expect(mean[i]).toBeLessThan(mean[i - 1]!);
  });

  it('draws requests from its population, catalogue, sites and five slots', () => {
    // Prepare
    const simulator = createSimulator({ seed: 6, users: 100, ads: 40, sites: 7 });
    const adIds = new Set(simulator.ads().map((a) => a.ad_id));

    // Act
    const requests = Array.from({ length: 2000 }, () => simulator.nextRequest());

    // Assess
    expect(LOCATIONS).toHaveLength(20);
    for (const r of requests) {
      expect(adIds.has(r.ad_id)).toBe(true);
      expect(r.user_id).toMatch(/^u_\d{6}$/);
      expect(DEVICE_TYPES).toContain(r.features.device_type);
      expect(LOCATIONS).toContain(r.features.location);
      expect(r.features.site_id).toMatch(/^site_000[1-7]$/);
      expect([1, 2, 3, 4, 5]).toContain(r.features.position);
      expect(r.trueProbability).toBeGreaterThan(0);
      expect(r.trueProbability).toBeLessThan(1);
    }
    expect(new Set(requests.map((r) => r.features.device_type)).size).toBe(3);
  });

  it('lists its catalogue with campaign, advertiser and category', () => {
    // Prepare
    const simulator = createSimulator({ seed: 7, ads: 30 });

    // Act
    const ads = simulator.ads();

    // Assess
    expect(ads).toHaveLength(30);
    for (const ad of ads) {
      expect(Object.keys(ad).sort()).toEqual(['ad_id', 'advertiser_id', 'campaign_id', 'category']);
      expect(CATEGORIES).toContain(ad.category);
    }
    expect(new Set(ads.map((a) => a.campaign_id)).size).toBeLessThan(30);
  });

  it('turns a request into the flat row the model sees: request features and catalogue fields', () => {
    // Prepare
    const simulator = createSimulator({ seed: 8 });
    const request = simulator.nextRequest();
    const ad = simulator.ads().find((a) => a.ad_id === request.ad_id)!;

    // Act
    const row = simulator.toTrainingRow(request);

    // Assess
    expect(row).toEqual({ ...request.features, ...ad });
  });

  it('refuses a request for an ad outside its catalogue', () => {
    // Prepare
    const simulator = createSimulator({ seed: 9 });
    const request = { ...simulator.nextRequest(), ad_id: 'ad_nope' };

    // Act
    const attempt = () => simulator.toTrainingRow(request);

    // Assess
    expect(attempt).toThrow(/ad_nope/);
  });
});

describe('simulatedExamples', () => {
  it('yields rows [from, to) of the traffic, the same on every call', () => {
    // Prepare
    const all = [...simulatedExamples({ seed: 10 }, 0, 300)];

    // Act
    const slice = [...simulatedExamples({ seed: 10 }, 100, 300)];
    const again = [...simulatedExamples({ seed: 10 }, 100, 300)];

    // Assess
    expect(slice).toEqual(all.slice(100));
    expect(again).toEqual(slice);
  });
});
