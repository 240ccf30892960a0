/**
 * The Analytics contract, run against every adapter (analytics.test.ts) over the hand-computed
 * fixture lake of test/integration/analytics/fixture-lake.ts. Each case is one port call; the
 * adapter must give exactly the answer of the reference (DuckDB running the plain queries over
 * the same lake), and a few figures are also checked against the fixture's hand-worked values, so
 * the suite fails for the reference itself when the queries go wrong.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDbAnalytics } from '../../../lambdas/adapters/local/duckdb/duckdb-analytics.js';
import { LakeDatabase } from '../../../lambdas/adapters/local/duckdb/lake-database.js';
import { DEFAULT_ATTRIBUTION_WINDOW_SECONDS } from '../../../lambdas/core/lake/attribution.js';
import type { Analytics } from '../../../lambdas/core/ports.js';
import { RANGE, writeFixtureLake } from '../analytics/fixture-lake.js';

const W = DEFAULT_ATTRIBUTION_WINDOW_SECONDS;
/** A range the lake holds nothing for (three days after the fixture's). */
const EMPTY = { from: new Date('2026-11-05T10:00:00Z'), to: new Date('2026-11-05T13:00:00Z') };
const hour = (hh: string) => `2026-11-02T${hh}:00:00.000Z`;

/** v1's serving figures in the fixture lake (approx_percentile: the p99 of four values is the largest). */
const V1_SERVING = {
  predictions: 4,
  fallback_predictions: 1,
  timed_predictions: 4,
  latency_p99_ms: 12,
  explored_predictions: 2,
  sum_exploration_bonus: 1.25,
  explored_impressions: 1,
  explored_clicks: 1,
};

interface Case {
  readonly name: string;
  readonly call: (a: Analytics) => Promise<unknown>;
  /** Hand-worked figures the answer must contain (toMatchObject). */
  readonly known?: unknown;
}

const CASES: readonly Case[] = [
  {
    name: 'ad performance per hour, every ad',
    call: (a) =>
      a.adPerformance({ ...RANGE, adId: null, granularity: 'hour', limit: 100, attributionWindowSeconds: W }),
    known: {
      truncated: false,
      rows: [
        { ad_id: 'ad-A', period_start: hour('10'), impressions: 2, clicks: 1, predicted_impressions: 2 },
        { ad_id: 'ad-B', period_start: hour('10'), impressions: 2, clicks: 0 },
        { ad_id: 'ad-A', period_start: hour('11'), impressions: 2, clicks: 1 },
        { ad_id: 'ad-B', period_start: hour('11'), impressions: 1, clicks: 1 },
        { ad_id: 'ad-A', period_start: hour('12'), impressions: 100, clicks: 0 },
        { ad_id: 'ad-B', period_start: hour('12'), impressions: 10, clicks: 1 },
      ],
    },
  },
  {
    name: 'ad performance per day for one ad',
    call: (a) =>
      a.adPerformance({ ...RANGE, adId: 'ad-B', granularity: 'day', limit: 100, attributionWindowSeconds: W }),
    known: { truncated: false, rows: [{ ad_id: 'ad-B', impressions: 13, clicks: 2 }] },
  },
  {
    name: 'ad performance cut at the limit',
    call: (a) => a.adPerformance({ ...RANGE, adId: null, granularity: 'hour', limit: 2, attributionWindowSeconds: W }),
    known: { truncated: true, rows: [{ ad_id: 'ad-A' }, { ad_id: 'ad-B' }] },
  },
  {
    name: 'ad performance of an empty range',
    call: (a) =>
      a.adPerformance({ ...EMPTY, adId: null, granularity: 'hour', limit: 100, attributionWindowSeconds: W }),
    known: { truncated: false, rows: [] },
  },
  {
    name: 'user segments by device type',
    call: (a) => a.userSegments({ ...RANGE, dimension: 'device_type', limit: 100, attributionWindowSeconds: W }),
    known: { truncated: false },
  },
  {
    name: 'user segments by activity',
    call: (a) => a.userSegments({ ...RANGE, dimension: 'activity', limit: 100, attributionWindowSeconds: W }),
  },
  {
    name: 'user segments by location cut at the limit',
    call: (a) => a.userSegments({ ...RANGE, dimension: 'location', limit: 1, attributionWindowSeconds: W }),
    known: { truncated: true },
  },
  {
    name: 'user segments of an empty range',
    call: (a) => a.userSegments({ ...EMPTY, dimension: 'device_type', limit: 100, attributionWindowSeconds: W }),
    known: { truncated: false, rows: [] },
  },
  {
    name: 'model calibration bins with serving and exploration figures',
    call: (a) => a.models({ ...RANGE, limit: 10, attributionWindowSeconds: W }),
    known: {
      truncated: false,
      rows: [
        { model_version: 'v1', serving: V1_SERVING },
        { model_version: 'v1', serving: V1_SERVING },
        { model_version: 'v1', serving: V1_SERVING },
        {
          model_version: 'v2',
          serving: {
            predictions: 3,
            fallback_predictions: 1,
            timed_predictions: 2,
            latency_p99_ms: 30,
            explored_predictions: 1,
            sum_exploration_bonus: 0.5,
            explored_impressions: 1,
            explored_clicks: 0,
          },
        },
      ],
    },
  },
  {
    name: 'model calibration bins of the first model only',
    call: (a) => a.models({ ...RANGE, limit: 1, attributionWindowSeconds: W }),
    known: { truncated: true },
  },
  {
    name: 'model calibration bins of an empty range',
    call: (a) => a.models({ ...EMPTY, limit: 10, attributionWindowSeconds: W }),
    known: { truncated: false, rows: [] },
  },
  {
    name: 'fraud per day',
    call: (a) => a.fraud({ ...RANGE, granularity: 'day', limit: 100, attributionWindowSeconds: W }),
    known: {
      truncated: false,
      rows: [
        { rule: 'click_too_fast', flagged_events: 1, flagged_clicks: 1, max_score: 0.9 },
        { rule: 'click_too_fast', flagged_events: 1, flagged_clicks: 1, max_score: 0.8 },
        { rule: 'site_ctr_outlier', site_id: 's2', flagged_impressions: 1 },
      ],
    },
  },
  {
    name: 'fraud per hour cut at the limit',
    call: (a) => a.fraud({ ...RANGE, granularity: 'hour', limit: 2, attributionWindowSeconds: W }),
    known: { truncated: true },
  },
  {
    name: 'fraud of an empty range',
    call: (a) => a.fraud({ ...EMPTY, granularity: 'hour', limit: 100, attributionWindowSeconds: W }),
    known: { truncated: false, rows: [] },
  },
];

export interface AnalyticsSubject {
  readonly analytics: Analytics;
  readonly close?: () => void;
}

/** `subject` builds the adapter over the fixture lake's database. */
export function analyticsContract(name: string, subject: (db: LakeDatabase) => AnalyticsSubject): void {
  describe(`Analytics contract: ${name}`, () => {
    let root: string;
    let db: LakeDatabase;
    let adapter: AnalyticsSubject;
    let reference: Analytics;

    beforeAll(async () => {
      root = await mkdtemp(join(tmpdir(), 'analytics-contract-'));
      await writeFixtureLake(join(root, 'lake'));
      db = await LakeDatabase.open({ lakeDir: join(root, 'lake') });
      reference = new DuckDbAnalytics(db, { rollup: false });
      adapter = subject(db);
    });

    afterAll(async () => {
      adapter?.close?.();
      db?.close();
      await rm(root, { recursive: true, force: true });
    });

    it.each(CASES)('answers $name as the reference does', async ({ call, known }) => {
      // Prepare
      const expected = await call(reference);

      // Act
      const answer = await call(adapter.analytics);

      // Assess
      expect(answer).toEqual(expected);
      if (known !== undefined) expect(answer).toMatchObject(known as object);
    });
  });
}
