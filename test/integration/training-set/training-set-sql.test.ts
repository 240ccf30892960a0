import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LakeDatabase, type SqlRow } from '../../../lambdas/adapters/local/duckdb/lake-database.js';
import {
  queryParams,
  TRAINING_SET_QUERY,
  type TrainingSetRequestInput,
  trainingSetRequest,
} from '../../../lambdas/adapters/local/duckdb/training-set-request.js';
import type { LakeRecord } from '../../../lambdas/adapters/local/lake/parquet-writer.js';
import { at, click, flag, impression, prediction, writeLake } from './lake-fixture.js';

const HOUR = 3_600_000;
const FROM = at('2026-11-11T00:00:00Z');
const TO = at('2026-11-12T00:00:00Z');
const LATER = at('2026-11-13T00:00:00Z');

/** A prediction 100 ms before its impression, as the ad server shows it. */
function shown(p: string, time: string, predictedAt?: string) {
  const t = at(time);
  return {
    prediction: prediction(p, predictedAt ? at(predictedAt) : new Date(t.getTime() - 100)),
    impression: impression(`i-${p}`, p, t),
  };
}

async function run(db: LakeDatabase, request: Partial<TrainingSetRequestInput> = {}): Promise<SqlRow[]> {
  const r = trainingSetRequest({ from: FROM, to: TO, cutoff: LATER, ...request });
  // The query's own maturity rule, without the build's cut to whole hours.
  const rows = await db.queryFile(TRAINING_SET_QUERY, queryParams(r));
  return rows.sort((a, b) => (String(a.prediction_id) < String(b.prediction_id) ? -1 : 1));
}

const labels = (rows: readonly SqlRow[]) => Object.fromEntries(rows.map((r) => [r.prediction_id, r.label]));

describe('the training-set SQL on DuckDB', () => {
  let root: string;
  let db: LakeDatabase;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'training-set-sql-'));
    const cases = [
      // The prediction sits in the previous day's partition.
      shown('p-first', '2026-11-11T00:00:00.050Z', '2026-11-10T23:59:59.990Z'),
      shown('p-in', '2026-11-11T01:00:00Z'),
      shown('p-late', '2026-11-11T02:00:00Z'),
      shown('p-edge', '2026-11-11T03:00:00Z'),
      shown('p-before', '2026-11-11T04:00:00Z'),
      shown('p-noclick', '2026-11-11T05:00:00Z'),
      shown('p-fraudclick', '2026-11-11T06:00:00Z'),
      shown('p-fraudclick2', '2026-11-11T06:30:00Z'),
      shown('p-fraudimp', '2026-11-11T07:00:00Z'),
      shown('p-dup', '2026-11-11T08:00:00Z'),
      shown('p-stale', '2026-11-11T10:00:00Z', '2026-11-11T08:30:00Z'),
      shown('p-twice', '2026-11-11T12:00:00Z'),
      shown('p-midnight', '2026-11-11T23:50:00Z'),
      shown('p-early', '2026-11-10T23:59:00Z'),
      shown('p-after', '2026-11-12T00:00:00Z'),
    ];
    const predictions: LakeRecord[] = [
      ...cases.map((c) => c.prediction),
      prediction('p-unshown', at('2026-11-11T09:00:00Z')),
    ];
    const impressions: LakeRecord[] = [
      ...cases.map((c) => c.impression),
      // No prediction named: not a training example.
      impression('i-orphan', null, at('2026-11-11T09:30:00Z')),
      // A second impression of the same prediction, later: the first one is the example's.
      impression('i-p-twice-b', 'p-twice', at('2026-11-11T12:05:00Z')),
    ];
    await writeLake(root, {
      predictions,
      impressions,
      clicks: [
        click('c-first', 'i-p-first', at('2026-11-11T00:20:00Z')),
        click('c-in', 'i-p-in', at('2026-11-11T01:30:00Z')),
        click('c-late', 'i-p-late', at('2026-11-11T03:05:00Z')),
        click('c-edge', 'i-p-edge', at('2026-11-11T04:00:00Z')),
        click('c-before', 'i-p-before', at('2026-11-11T03:59:59Z')),
        click('c-noclick', 'i-p-noclick', at('2026-11-11T05:10:00Z'), false),
        click('c-fraudclick', 'i-p-fraudclick', at('2026-11-11T06:10:00Z')),
        click('c-fraudclick2-bad', 'i-p-fraudclick2', at('2026-11-11T06:35:00Z')),
        click('c-fraudclick2-good', 'i-p-fraudclick2', at('2026-11-11T06:40:00Z')),
        click('c-fraudimp', 'i-p-fraudimp', at('2026-11-11T07:10:00Z')),
        click('c-dup', 'i-p-dup', at('2026-11-11T08:10:00Z')),
        click('c-stale', 'i-p-stale', at('2026-11-11T10:10:00Z')),
        click('c-twice-b', 'i-p-twice-b', at('2026-11-11T12:10:00Z')),
        // The next day's partition, inside the window.
        click('c-midnight', 'i-p-midnight', at('2026-11-12T00:20:00Z')),
      ],
      flags: [
        flag('c-fraudclick', 'click', at('2026-11-11T06:10:00Z')),
        flag('c-fraudclick2-bad', 'click', at('2026-11-11T06:35:00Z')),
        flag('i-p-fraudimp', 'impression', at('2026-11-11T07:00:00Z')),
        // A click flag never removes an impression that happens to share its id.
        flag('i-p-in', 'click', at('2026-11-11T01:00:00Z')),
      ],
    });
    // At-least-once delivery: the same events again, in other files of the same partitions.
    const dup = cases.find((c) => c.prediction.prediction_id === 'p-dup')!;
    await writeLake(
      root,
      {
        predictions: [dup.prediction],
        impressions: [dup.impression],
        clicks: [click('c-dup', 'i-p-dup', at('2026-11-11T08:10:00Z'))],
      },
      'replay.parquet',
    );
    db = await LakeDatabase.open({ lakeDir: root });
  });

  afterAll(async () => {
    db.close();
    await rm(root, { recursive: true, force: true });
  });

  it('labels 1 a click within the window and 0 one after it, the window end included', async () => {
    // Act
    const rows = labels(await run(db));

    // Assess
    expect(rows['p-in']).toBe(1);
    expect(rows['p-late']).toBe(0);
    expect(rows['p-edge']).toBe(1);
  });

  it('counts neither an explicit non-click nor a click timed before its impression', async () => {
    // Act
    const rows = labels(await run(db));

    // Assess
    expect(rows['p-noclick']).toBe(0);
    expect(rows['p-before']).toBe(0);
  });

  it('ignores a flagged click and drops a flagged impression, and only by the flag of its type', async () => {
    // Act
    const rows = labels(await run(db));

    // Assess
    expect(rows['p-fraudclick']).toBe(0);
    expect(rows['p-fraudclick2']).toBe(1);
    expect(rows).not.toHaveProperty('p-fraudimp');
    expect(rows['p-in']).toBe(1);
  });

  it('counts a replayed prediction, impression and click once', async () => {
    // Act
    const rows = await run(db);

    // Assess
    expect(rows.filter((r) => r.prediction_id === 'p-dup')).toEqual([
      expect.objectContaining({ prediction_id: 'p-dup', impression_id: 'i-p-dup', label: 1, sample_weight: 1 }),
    ]);
    expect(new Set(rows.map((r) => r.prediction_id)).size).toBe(rows.length);
  });

  it('reads the partitions either side of the range: an earlier prediction, a later click', async () => {
    // Act
    const rows = labels(await run(db));

    // Assess
    expect(rows['p-first']).toBe(1);
    expect(rows['p-midnight']).toBe(1);
  });

  it('keeps exactly the predictions shown in [from, to) whose prediction came within a window of the impression', async () => {
    // Act
    const rows = await run(db);

    // Assess
    expect(rows.map((r) => r.prediction_id)).toEqual([
      'p-before',
      'p-dup',
      'p-edge',
      'p-first',
      'p-fraudclick',
      'p-fraudclick2',
      'p-in',
      'p-late',
      'p-midnight',
      'p-noclick',
      'p-twice',
    ]);
  });

  it('labels a prediction shown twice through its first impression only', async () => {
    // Act
    const rows = await run(db);

    // Assess
    expect(rows.find((r) => r.prediction_id === 'p-twice')).toMatchObject({ impression_id: 'i-p-twice', label: 0 });
  });

  it('returns the training_examples columns with the snapshot, the prediction time and the impression time', async () => {
    // Act
    const rows = await run(db);

    // Assess
    expect(rows.find((r) => r.prediction_id === 'p-first')).toEqual({
      prediction_id: 'p-first',
      impression_id: 'i-p-first',
      ad_id: 'ad-1',
      label: 1,
      features: JSON.stringify({ ad_id: 'ad-1', site_id: 's-1', position: 1 }),
      model_version: 'v1',
      sample_weight: 1,
      timestamp: '2026-11-10T23:59:59.990Z',
      impression_timestamp: '2026-11-11T00:00:00.050Z',
    });
  });

  it('leaves out impressions whose window has not passed at the cut-off', async () => {
    // Act: at 06:15 the impressions up to 05:15 are mature.
    const rows = await run(db, { cutoff: at('2026-11-11T06:15:00Z') });

    // Assess
    expect(rows.map((r) => r.prediction_id)).toEqual(['p-before', 'p-edge', 'p-first', 'p-in', 'p-late', 'p-noclick']);
  });

  it('answers the same rows on every run and with any number of threads', async () => {
    // Prepare
    const parallel = await LakeDatabase.open({ lakeDir: root, threads: 4 });

    try {
      // Act
      const first = await run(db);
      const second = await run(parallel);

      // Assess
      expect(second).toEqual(first);
    } finally {
      parallel.close();
    }
  });
});

describe('negative down-sampling in the training-set SQL', () => {
  let root: string;
  let db: LakeDatabase;
  const NEGATIVES = 2000;
  const POSITIVES = 50;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'training-set-sampling-'));
    const predictions: LakeRecord[] = [];
    const impressions: LakeRecord[] = [];
    const clicks: LakeRecord[] = [];
    for (let i = 0; i < NEGATIVES + POSITIVES; i++) {
      const t = new Date(FROM.getTime() + (i % 20) * HOUR + i);
      predictions.push(prediction(`p${i}`, t));
      impressions.push(impression(`i${i}`, `p${i}`, new Date(t.getTime() + 100)));
      if (i >= NEGATIVES) clicks.push(click(`c${i}`, `i${i}`, new Date(t.getTime() + 60_000)));
    }
    await writeLake(root, { predictions, impressions, clicks });
    db = await LakeDatabase.open({ lakeDir: root });
  });

  afterAll(async () => {
    db.close();
    await rm(root, { recursive: true, force: true });
  });

  it('keeps every positive and each negative whose md5 hash draw falls below the rate, weighted 1/rate', async () => {
    // Prepare: the draw, as the SQL defines it: the first 32 bits of md5(prediction_id) / 2^32.
    const draw = (id: string) => Number.parseInt(createHash('md5').update(id).digest('hex').slice(0, 8), 16) / 2 ** 32;
    const expected = Array.from({ length: NEGATIVES }, (_, i) => `p${i}`).filter((id) => draw(id) < 0.25);

    // Act
    const rows = await run(db, { negativeRate: 0.25 });

    // Assess
    const positives = rows.filter((r) => r.label === 1);
    const negatives = rows.filter((r) => r.label === 0);
    expect(positives).toHaveLength(POSITIVES);
    expect(positives.every((r) => r.sample_weight === 1)).toBe(true);
    expect(negatives.map((r) => r.prediction_id).sort()).toEqual(expected.sort());
    expect(negatives.every((r) => r.sample_weight === 4)).toBe(true);
    // About a quarter of the negatives (±4 standard deviations).
    expect(Math.abs(negatives.length - NEGATIVES / 4)).toBeLessThan(4 * Math.sqrt(NEGATIVES * 0.25 * 0.75));
  });

  it('keeps the negatives of a lower rate among those of a higher one, and all of them at rate 1', async () => {
    // Act
    const low = await run(db, { negativeRate: 0.1 });
    const high = await run(db, { negativeRate: 0.5 });
    const all = await run(db, { negativeRate: 1 });

    // Assess
    const highIds = new Set(high.map((r) => r.prediction_id));
    expect(low.every((r) => highIds.has(r.prediction_id))).toBe(true);
    expect(low.length).toBeLessThan(high.length);
    expect(all).toHaveLength(NEGATIVES + POSITIVES);
    expect(all.every((r) => r.sample_weight === 1)).toBe(true);
  });
});
