import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateLake } from '../../../bench/lake/generate-lake.js';
import {
  AdPerformanceRollup,
  type AdPerformanceRollupOptions,
} from '../../../lambdas/adapters/local/duckdb/ad-performance-rollup.js';
import { DuckDbAnalytics } from '../../../lambdas/adapters/local/duckdb/duckdb-analytics.js';
import { LakeDatabase } from '../../../lambdas/adapters/local/duckdb/lake-database.js';
import { DEFAULT_ATTRIBUTION_WINDOW_SECONDS } from '../../../lambdas/core/lake/attribution.js';
import type { AdPerformanceCounts, AdPerformanceQuery } from '../../../lambdas/core/schemas/analytics.js';
import { click, flag, RANGE, writeFixtureLake, writeRows } from './fixture-lake.js';

const W = DEFAULT_ATTRIBUTION_WINDOW_SECONDS;
const AFTER_THE_RANGE = new Date('2026-11-03T00:00:00Z');
const query = (q: Partial<AdPerformanceQuery> = {}): AdPerformanceQuery => ({
  ...RANGE,
  adId: null,
  granularity: 'hour',
  limit: 10_000,
  attributionWindowSeconds: W,
  ...q,
});
/** Counts compared exactly, sums of probabilities up to the order of their additions. */
const comparable = (rows: readonly AdPerformanceCounts[]) =>
  rows.map((r) => ({ ...r, sum_probability: Number(r.sum_probability.toPrecision(12)) }));

describe('the ad-performance rollup', () => {
  let root: string;
  let lakeDir: string;
  let db: LakeDatabase;
  const rollup = (options: AdPerformanceRollupOptions = {}) =>
    new AdPerformanceRollup(db, { now: () => AFTER_THE_RANGE, settleMs: 0, ...options });
  const plain = (q: AdPerformanceQuery) => new DuckDbAnalytics(db, { rollup: false }).adPerformance(q);

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'analytics-rollup-'));
    lakeDir = join(root, 'lake');
    await writeFixtureLake(lakeDir);
    db = await LakeDatabase.open({ lakeDir });
  });

  afterEach(async () => {
    db.close();
    await rm(root, { recursive: true, force: true });
  });

  it('builds the closed hours once and answers later requests from them', async () => {
    // Prepare
    const r = rollup();
    await r.query(query());

    // Act
    const answer = await r.query(query({ granularity: 'day' }));

    // Assess
    expect(r.lastUse).toEqual({ rolledUp: 3, rebuilt: 0, live: 0 });
    expect(comparable(answer.rows)).toEqual(comparable((await plain(query({ granularity: 'day' }))).rows));
  });

  it('counts a click that arrives late into a rolled-up hour at once', async () => {
    // Prepare: i2 (10:10) had no counted click.
    const r = rollup();
    await r.query(query());
    await writeRows(lakeDir, 'clicks', [click('c-late', 'i2', new Date('2026-11-02T10:50:00Z'))], 'late.parquet');

    // Act
    const answer = await r.query(query({ adId: 'ad-A' }));

    // Assess
    expect(r.lastUse.rebuilt).toBe(1);
    expect(answer.rows[0]).toMatchObject({ period_start: '2026-11-02T10:00:00.000Z', impressions: 2, clicks: 2 });
    expect(comparable(answer.rows)).toEqual(comparable((await plain(query({ adId: 'ad-A' }))).rows));
  });

  it('drops a click flagged as fraud after its hour was rolled up', async () => {
    // Prepare: c1 made i1 (10:00) a click.
    const r = rollup();
    await r.query(query());
    await writeRows(
      lakeDir,
      'suspicious_events',
      [flag('click', 'c1', 'click_too_fast', 0.9, new Date('2026-11-02T10:05:00Z'))],
      'late.parquet',
    );

    // Act
    const answer = await r.query(query({ adId: 'ad-A' }));

    // Assess
    expect(answer.rows[0]).toMatchObject({ period_start: '2026-11-02T10:00:00.000Z', impressions: 2, clicks: 0 });
    expect(comparable(answer.rows)).toEqual(comparable((await plain(query({ adId: 'ad-A' }))).rows));
  });

  it('computes from the raw tables the hours whose clicks may still come, and partial hours', async () => {
    // Prepare: at 12:20, hour 10 is closed (its clicks were due by 12:00); hour 11 is not.
    const r = rollup({ now: () => new Date('2026-11-02T12:20:00Z') });
    const q = query({ to: new Date('2026-11-02T12:30:00Z') });

    // Act
    const answer = await r.query(q);

    // Assess: hour 10 from the rollup; 11:00-12:30 from the raw tables.
    expect(r.lastUse).toEqual({ rolledUp: 1, rebuilt: 1, live: 2 });
    expect(comparable(answer.rows)).toEqual(comparable((await plain(q)).rows));
  });

  it('does not roll up an hour whose partitions changed within the settle time', async () => {
    // Prepare: the fixture was written just now.
    const r = rollup({ settleMs: 3_600_000 });

    // Act
    const answer = await r.query(query());

    // Assess
    expect(r.lastUse).toEqual({ rolledUp: 0, rebuilt: 0, live: 3 });
    expect(comparable(answer.rows)).toEqual(comparable((await plain(query())).rows));
  });

  it('builds in steps when the impression files exceed its memory budget, with the same answer', async () => {
    // Prepare: a budget smaller than any file makes every hour a step of its own.
    const r = rollup({ maxBuildBytes: 1 });

    // Act
    const answer = await r.query(query());

    // Assess
    expect(r.lastUse).toEqual({ rolledUp: 3, rebuilt: 3, live: 0 });
    expect(comparable(answer.rows)).toEqual(comparable((await plain(query())).rows));
  });

  it('leaves queries with another attribution window to the plain query', () => {
    // Act
    const served = rollup().serves(query({ attributionWindowSeconds: 600 }));

    // Assess
    expect(served).toBe(false);
  });
});

describe('the rollup on a generated lake (replays, late clicks, flagged clicks)', () => {
  it('gives the plain query’s answers, by day and by hour, for every ad and for one ad', async () => {
    // Prepare
    const root = await mkdtemp(join(tmpdir(), 'analytics-rollup-gen-'));
    const lakeDir = join(root, 'lake');
    const lake = await generateLake({ lakeDir, impressions: 20_000, days: 1, ads: 50, threads: 1 });
    const db = await LakeDatabase.open({ lakeDir });
    const rolled = new DuckDbAnalytics(db, {
      rollupOptions: { now: () => new Date('2027-01-01T00:00:00Z'), settleMs: 0 },
    });
    const plainly = new DuckDbAnalytics(db, { rollup: false });
    const queries = [
      query({ from: lake.from, to: lake.to, granularity: 'day' }),
      query({ from: new Date(lake.from.getTime() + 90 * 60_000), to: new Date(lake.to.getTime() - 30 * 60_000) }),
      query({ from: lake.from, to: lake.to, adId: 'ad1' }),
    ];

    try {
      for (const q of queries) {
        // Act
        const fromRollup = await rolled.adPerformance(q);
        const fromRaw = await plainly.adPerformance(q);

        // Assess
        expect(fromRollup.rows.length).toBeGreaterThan(0);
        expect(comparable(fromRollup.rows)).toEqual(comparable(fromRaw.rows));
      }
    } finally {
      db.close();
      await rm(root, { recursive: true, force: true });
    }
  });
});
