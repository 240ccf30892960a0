import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DuckDbAnalytics,
  type DuckDbAnalyticsOptions,
} from '../../../lambdas/adapters/local/duckdb/duckdb-analytics.js';
import { LakeDatabase } from '../../../lambdas/adapters/local/duckdb/lake-database.js';
import { DEFAULT_ATTRIBUTION_WINDOW_SECONDS } from '../../../lambdas/core/lake/attribution.js';
import { adPerformanceRow, modelMetrics } from '../../../lambdas/core/usecases/analytics.js';
import { auc, logLoss } from '../../../sagemaker/model/metrics.js';
import { PREDICTED, RANGE, writeFixtureLake } from './fixture-lake.js';

const W = DEFAULT_ATTRIBUTION_WINDOW_SECONDS;
const DAY = '2026-11-02T00:00:00.000Z';
const hour = (hh: string) => `2026-11-02T${hh}:00:00.000Z`;

let root: string;
let db: LakeDatabase;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'analytics-fixture-'));
  await writeFixtureLake(join(root, 'lake'));
  db = await LakeDatabase.open({ lakeDir: join(root, 'lake') });
});

afterAll(async () => {
  db?.close();
  await rm(root, { recursive: true, force: true });
});

// The same hand-computed numbers from the plain query and from the hourly rollups (every hour of
// the range closed by the clock, and settled at once).
const MODES: [string, DuckDbAnalyticsOptions][] = [
  ['the plain query', { rollup: false }],
  ['hourly rollups', { rollupOptions: { now: () => new Date('2026-11-03T00:00:00Z'), settleMs: 0 } }],
];

describe.each(MODES)('ad performance from %s', (_, options) => {
  const adPerformance = async (q: Partial<Parameters<DuckDbAnalytics['adPerformance']>[0]> = {}) => {
    const analytics = new DuckDbAnalytics(db, options);
    const query = { ...RANGE, adId: null, granularity: 'hour' as const, limit: 100, attributionWindowSeconds: W, ...q };
    const result = await analytics.adPerformance(query);
    return { ...result, rows: result.rows.map(adPerformanceRow) };
  };

  it('counts each impression once, credits only attributed unflagged clicks, and derives CTR and calibration per ad and hour', async () => {
    // Act
    const { rows, truncated } = await adPerformance();

    // Assess
    expect(truncated).toBe(false);
    expect(rows).toEqual([
      // i1 (clicked by c1, delivered 3 times) and i2 (c10 flagged, c2 late); i5 is flagged.
      {
        ad_id: 'ad-A',
        period_start: hour('10'),
        impressions: 2,
        clicks: 1,
        ctr: 0.5,
        predicted_impressions: 2,
        predicted_clicks: 1,
        mean_predicted_ctr: expect.closeTo(0.15, 12),
        calibration: expect.closeTo(0.3, 12),
      },
      // i3 (explicit non-click) and i4 (c4 flagged).
      {
        ad_id: 'ad-B',
        period_start: hour('10'),
        impressions: 2,
        clicks: 0,
        ctr: 0,
        predicted_impressions: 2,
        predicted_clicks: 0,
        mean_predicted_ctr: expect.closeTo(0.35, 12),
        calibration: null,
      },
      // i6 (clicked exactly one window later) and i8 (its prediction was never logged, its click came first).
      {
        ad_id: 'ad-A',
        period_start: hour('11'),
        impressions: 2,
        clicks: 1,
        ctr: 0.5,
        predicted_impressions: 1,
        predicted_clicks: 1,
        mean_predicted_ctr: expect.closeTo(0.5, 12),
        calibration: expect.closeTo(0.5, 12),
      },
      // i7: clicked, no prediction.
      {
        ad_id: 'ad-B',
        period_start: hour('11'),
        impressions: 1,
        clicks: 1,
        ctr: 1,
        predicted_impressions: 0,
        predicted_clicks: 0,
        mean_predicted_ctr: null,
        calibration: null,
      },
      // h0..h99; i9 at 13:00 is outside the range.
      {
        ad_id: 'ad-A',
        period_start: hour('12'),
        impressions: 100,
        clicks: 0,
        ctr: 0,
        predicted_impressions: 0,
        predicted_clicks: 0,
        mean_predicted_ctr: null,
        calibration: null,
      },
      // m0..m9, m0 clicked.
      {
        ad_id: 'ad-B',
        period_start: hour('12'),
        impressions: 10,
        clicks: 1,
        ctr: 0.1,
        predicted_impressions: 0,
        predicted_clicks: 0,
        mean_predicted_ctr: null,
        calibration: null,
      },
    ]);
  });

  it('adds the hours up into days', async () => {
    // Act
    const { rows } = await adPerformance({ granularity: 'day' });

    // Assess
    expect(rows).toEqual([
      {
        ad_id: 'ad-A',
        period_start: DAY,
        impressions: 104,
        clicks: 2,
        ctr: 2 / 104,
        predicted_impressions: 3,
        predicted_clicks: 2,
        mean_predicted_ctr: expect.closeTo(0.8 / 3, 12),
        calibration: expect.closeTo(0.4, 12),
      },
      {
        ad_id: 'ad-B',
        period_start: DAY,
        impressions: 13,
        clicks: 2,
        ctr: 2 / 13,
        predicted_impressions: 2,
        predicted_clicks: 0,
        mean_predicted_ctr: expect.closeTo(0.35, 12),
        calibration: null,
      },
    ]);
  });

  it('answers for one ad only when asked', async () => {
    // Act
    const { rows } = await adPerformance({ adId: 'ad-B', granularity: 'day' });

    // Assess
    expect(rows.map((r) => [r.ad_id, r.impressions, r.clicks])).toEqual([['ad-B', 13, 2]]);
  });

  it('keeps the range half-open and reads partial hours: [10:10, 11:30) holds i2, i3, i4 and i6', async () => {
    // Act
    const { rows } = await adPerformance({
      from: new Date('2026-11-02T10:10:00Z'),
      to: new Date('2026-11-02T11:30:00Z'),
      granularity: 'day',
    });

    // Assess
    expect(rows.map((r) => [r.ad_id, r.impressions, r.clicks])).toEqual([
      ['ad-A', 2, 1],
      ['ad-B', 2, 0],
    ]);
  });

  it('returns at most limit rows and says it truncated', async () => {
    // Act
    const { rows, truncated } = await adPerformance({ limit: 4 });

    // Assess
    expect(rows.map((r) => `${r.period_start} ${r.ad_id}`)).toEqual([
      `${hour('10')} ad-A`,
      `${hour('10')} ad-B`,
      `${hour('11')} ad-A`,
      `${hour('11')} ad-B`,
    ]);
    expect(truncated).toBe(true);
  });
});

describe('the user-segments query', () => {
  const segments = (dimension: 'device_type' | 'location' | 'activity', limit = 100) =>
    new DuckDbAnalytics(db).userSegments({ ...RANGE, dimension, limit, attributionWindowSeconds: W });

  it('counts users, impressions and clicks per device type, most impressions first', async () => {
    // Act
    const { rows } = await segments('device_type');

    // Assess
    expect(rows).toEqual([
      { segment: 'desktop', users: 3, impressions: 102, clicks: 1 }, // u2 (i2), u4 (i7, clicked), u6 (h0..h99)
      { segment: 'tablet', users: 1, impressions: 10, clicks: 1 }, // u5
      { segment: 'mobile', users: 2, impressions: 5, clicks: 2 }, // u1 (i1 clicked, i3, i8), u3 (i4, i6 clicked)
    ]);
  });

  it('counts per location, with the impressions that reported none as a null segment', async () => {
    // Act
    const { rows } = await segments('location');

    // Assess
    expect(rows).toEqual([
      { segment: 'DE', users: 2, impressions: 101, clicks: 1 },
      { segment: 'FR', users: 1, impressions: 10, clicks: 1 },
      { segment: 'US', users: 1, impressions: 3, clicks: 1 },
      { segment: null, users: 1, impressions: 2, clicks: 1 },
      { segment: 'GB', users: 1, impressions: 1, clicks: 0 },
    ]);
  });

  it('puts each user in one activity level by counted impressions per active day: light < 10 ≤ medium < 100 ≤ heavy', async () => {
    // Act
    const { rows } = await segments('activity');

    // Assess
    expect(rows).toEqual([
      { segment: 'heavy', users: 1, impressions: 100, clicks: 0 }, // u6
      { segment: 'medium', users: 1, impressions: 10, clicks: 1 }, // u5
      // u1 (3), u2 (1: i5 is flagged), u3 (2), u4 (1)
      { segment: 'light', users: 4, impressions: 7, clicks: 3 },
    ]);
  });

  it('truncates to the limit', async () => {
    // Act
    const result = await segments('location', 2);

    // Assess
    expect(result.rows.map((r) => r.segment)).toEqual(['DE', 'FR']);
    expect(result.truncated).toBe(true);
  });
});

describe('the models query', () => {
  const models = async (limit = 100) => {
    const result = await new DuckDbAnalytics(db).models({ ...RANGE, limit, attributionWindowSeconds: W });
    return { ...result, models: modelMetrics(result.rows) };
  };

  it('gives each model version and variant its online log loss, AUC and calibration, equal to the offline metrics on the same rows', async () => {
    // Act
    const { models: list } = await models();

    // Assess
    const { v1, v2 } = PREDICTED;
    expect(list.map((m) => [m.model_version, m.variant, m.impressions, m.clicks])).toEqual([
      ['v1', 'champion', 3, 2], // i1 (0.1, clicked), i2 (0.2), i6 (0.5, clicked); i5 is flagged
      ['v2', 'exp-1:1', 2, 0], // i3 (0.3), i4 (0.4)
    ]);
    const [m1, m2] = list;
    expect(m1!.log_loss).toBeCloseTo(logLoss(v1.probabilities, v1.labels), 12);
    expect(m1!.auc).toBeCloseTo(auc(v1.probabilities, v1.labels)!, 12);
    expect(m1!.auc).toBeCloseTo(0.5, 12); // one of the two positives outranks the negative
    expect(m1!.calibration).toBeCloseTo(0.8 / 2, 12);
    expect(m2!.log_loss).toBeCloseTo(logLoss(v2.probabilities, v2.labels), 12);
    expect(m2!.auc).toBeNull();
    expect(m2!.calibration).toBeNull();
  });

  it('bins predictions on the fixed 1-2-5 edges for the reliability diagram', async () => {
    // Act
    const { models: list } = await models();

    // Assess
    expect(list[0]!.reliability).toEqual([
      { lower: 0.1, upper: 0.2, impressions: 1, clicks: 1, mean_prediction: 0.1, observed_rate: 1 },
      { lower: 0.2, upper: 0.5, impressions: 1, clicks: 0, mean_prediction: 0.2, observed_rate: 0 },
      { lower: 0.5, upper: 1, impressions: 1, clicks: 1, mean_prediction: 0.5, observed_rate: 1 },
    ]);
    expect(list[1]!.reliability).toEqual([
      {
        lower: 0.2,
        upper: 0.5,
        impressions: 2,
        clicks: 0,
        mean_prediction: expect.closeTo(0.35, 12),
        observed_rate: 0,
      },
    ]);
  });

  it('gives each model version and variant its fallback rate and latency over the predictions made in the range, shown or not', async () => {
    // Act
    const { models: list } = await models();

    // Assess: v1 p2, p5, p6, p7 (p1 is before the range); v2 p3, p4 and p8 (no latency).
    const [m1, m2] = list;
    expect(m1!.serving).toMatchObject({
      predictions: 4,
      fallback_predictions: 1,
      fallback_rate: 0.25,
      timed_predictions: 4,
      latency_p99_ms: 12,
    });
    // The median of 4, 6, 8, 12 lies between 6 and 8 by any convention of the sketch.
    expect(m1!.serving.latency_p50_ms).toBeGreaterThanOrEqual(6);
    expect(m1!.serving.latency_p50_ms).toBeLessThanOrEqual(8);
    expect(m2!.serving).toMatchObject({
      predictions: 3,
      fallback_predictions: 1,
      fallback_rate: 1 / 3,
      timed_predictions: 2,
      latency_p99_ms: 30,
    });
  });

  it('shows the exploration budget spent and the CTR of explored and other impressions per model and variant', async () => {
    // Act
    const { models: list } = await models();

    // Assess: v1 explored p5 (its impression flagged) and p6 (i6, clicked); v2 explored p3 (i3).
    expect(list[0]!.exploration).toEqual({
      predictions: 2,
      share: 0.5,
      mean_bonus: 0.625,
      explored: { impressions: 1, clicks: 1, ctr: 1 },
      not_explored: { impressions: 2, clicks: 1, ctr: 0.5 },
    });
    expect(list[1]!.exploration).toEqual({
      predictions: 1,
      share: 1 / 3,
      mean_bonus: 0.5,
      explored: { impressions: 1, clicks: 0, ctr: 0 },
      not_explored: { impressions: 1, clicks: 0, ctr: 0 },
    });
  });

  it('limits the number of model versions and variants, never cutting one in half', async () => {
    // Act
    const { models: list, truncated } = await models(1);

    // Assess
    expect(list.map((m) => [m.model_version, m.reliability.length])).toEqual([['v1', 3]]);
    expect(truncated).toBe(true);
  });
});

describe('the fraud query', () => {
  const fraud = (granularity: 'hour' | 'day', limit = 100) =>
    new DuckDbAnalytics(db).fraud({ ...RANGE, granularity, limit, attributionWindowSeconds: W });

  it('counts flagged events once per rule and site, taking a missing site from the impression', async () => {
    // Act
    const { rows } = await fraud('day');

    // Assess
    expect(rows).toEqual([
      // c4: no site on the flag, s3 through i4; delivered twice.
      {
        period_start: DAY,
        rule: 'click_too_fast',
        site_id: 's3',
        flagged_events: 1,
        flagged_impressions: 0,
        flagged_clicks: 1,
        mean_score: 0.9,
        max_score: 0.9,
      },
      // c10: the flag names its site.
      {
        period_start: DAY,
        rule: 'click_too_fast',
        site_id: 'sX',
        flagged_events: 1,
        flagged_impressions: 0,
        flagged_clicks: 1,
        mean_score: 0.8,
        max_score: 0.8,
      },
      // i5: s2 from its own features.
      {
        period_start: DAY,
        rule: 'site_ctr_outlier',
        site_id: 's2',
        flagged_events: 1,
        flagged_impressions: 1,
        flagged_clicks: 0,
        mean_score: 0.7,
        max_score: 0.7,
      },
    ]);
  });

  it('puts flags in the hour of the flagged event and truncates to the limit', async () => {
    // Act
    const { rows, truncated } = await fraud('hour', 2);

    // Assess
    expect(rows.map((r) => [r.period_start, r.rule, r.site_id])).toEqual([
      [hour('10'), 'click_too_fast', 's3'],
      [hour('10'), 'click_too_fast', 'sX'],
    ]);
    expect(truncated).toBe(true);
  });
});

describe('an empty lake', () => {
  it('answers every query with no rows', async () => {
    // Prepare
    const emptyRoot = await mkdtemp(join(tmpdir(), 'analytics-empty-'));
    const empty = await LakeDatabase.open({ lakeDir: join(emptyRoot, 'lake') });
    const analytics = new DuckDbAnalytics(empty);
    const q = { ...RANGE, attributionWindowSeconds: W, limit: 10 };

    try {
      // Act
      const answers = await Promise.all([
        analytics.adPerformance({ ...q, adId: null, granularity: 'day' }),
        analytics.userSegments({ ...q, dimension: 'activity' }),
        analytics.models(q),
        analytics.fraud({ ...q, granularity: 'day' }),
      ]);

      // Assess
      expect(answers).toEqual(Array(4).fill({ rows: [], truncated: false }));
    } finally {
      empty.close();
      await rm(emptyRoot, { recursive: true, force: true });
    }
  });
});

describe('concurrent requests', () => {
  it('answers the four queries at once on a database that has not read the lake yet', async () => {
    // Prepare: a fresh database points its views at the files on first use, from each connection.
    const fresh = await LakeDatabase.open({ lakeDir: join(root, 'lake') });
    const analytics = new DuckDbAnalytics(fresh, { rollup: false });
    const q = { ...RANGE, attributionWindowSeconds: W, limit: 100 };

    try {
      // Act
      const [performance, segments, models, fraud] = await Promise.all([
        analytics.adPerformance({ ...q, adId: null, granularity: 'day' }),
        analytics.userSegments({ ...q, dimension: 'activity' }),
        analytics.models(q),
        analytics.fraud({ ...q, granularity: 'day' }),
      ]);

      // Assess
      expect(performance.rows.map((r) => r.impressions)).toEqual([104, 13]);
      expect(segments.rows.map((r) => r.segment)).toEqual(['heavy', 'medium', 'light']);
      expect(models.rows.length).toBe(4);
      expect(fraud.rows.length).toBe(3);
    } finally {
      fresh.close();
    }
  });
});
