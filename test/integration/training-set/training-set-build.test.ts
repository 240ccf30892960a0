import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LakeDatabase } from '../../../lambdas/adapters/local/duckdb/lake-database.js';
import {
  type BuildTrainingSetOptions,
  buildTrainingSet,
  TrainingCsvError,
  TrainingSetRequestError,
} from '../../../lambdas/adapters/local/duckdb/training-set.js';
import type { LakeRecord } from '../../../lambdas/adapters/local/lake/parquet-writer.js';
import { at, click, impression, prediction, writeLake } from './lake-fixture.js';

const FROM = at('2026-11-11T00:00:00Z');
const TO = at('2026-11-12T00:00:00Z');
const CUTOFF = at('2026-11-13T00:00:00Z');

/** One shown prediction an hour from 00:30 for `hours` hours; every third one clicked. */
function traffic(hours: number, features: (i: number) => Record<string, unknown> = () => ({ ad_id: 'ad-1' })) {
  const predictions: LakeRecord[] = [];
  const impressions: LakeRecord[] = [];
  const clicks: LakeRecord[] = [];
  for (let i = 0; i < hours; i++) {
    const t = new Date(FROM.getTime() + i * 3_600_000 + 30 * 60_000);
    predictions.push(prediction(`p${String(i).padStart(2, '0')}`, new Date(t.getTime() - 100), features(i)));
    impressions.push(impression(`i${i}`, `p${String(i).padStart(2, '0')}`, t));
    if (i % 3 === 0) clicks.push(click(`c${i}`, `i${i}`, new Date(t.getTime() + 60_000)));
  }
  return { predictions, impressions, clicks };
}

describe('buildTrainingSet', () => {
  let root: string;
  let lakeDir: string;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'training-set-build-'));
    lakeDir = join(root, 'lake');
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const build = (options: Partial<BuildTrainingSetOptions> = {}) =>
    buildTrainingSet({ lakeDir, from: FROM, to: TO, cutoff: CUTOFF, threads: 1, ...options });

  async function lakeCount(): Promise<{ rows: number; ids: number }> {
    const db = await LakeDatabase.open({ lakeDir });
    try {
      const [row] = await db.query(
        'SELECT count(*) AS rows, count(DISTINCT prediction_id) AS ids FROM training_examples',
      );
      return { rows: row!.rows as number, ids: row!.ids as number };
    } finally {
      db.close();
    }
  }

  it('writes the examples into training_examples, partitioned by prediction time and readable by the lake views', async () => {
    // Prepare
    await writeLake(lakeDir, traffic(24));

    // Act
    const result = await build();

    // Assess
    expect(result).toMatchObject({ examples: 24, positives: 8, negatives: 16, csv: null });
    expect(await lakeCount()).toEqual({ rows: 24, ids: 24 });
    const files = result.lake!.files.map((f) => relative(lakeDir, f));
    expect(files).toContain(
      join('training_examples', 'dt=2026-11-11', 'hour=05', 'impressions-2026-11-11T05-0.parquet'),
    );
    expect(readdirSync(join(lakeDir, '.staging'))).toEqual([]);
  });

  it('replaces the rows of the same hours when built again instead of adding a second copy', async () => {
    // Prepare
    await writeLake(lakeDir, traffic(24));
    await build();

    // Act
    const again = await build();
    const sampled = await build({ negativeRate: 0.5 });

    // Assess
    expect(again.lake!.removed).toBe(0);
    expect(sampled.examples).toBeLessThan(24);
    expect(await lakeCount()).toEqual({ rows: sampled.examples, ids: sampled.examples });
  });

  it('replaces only the hours of a narrower build, so overlapping builds never double a row', async () => {
    // Prepare
    await writeLake(lakeDir, traffic(24));
    await build();

    // Act
    const narrow = await build({ from: at('2026-11-11T06:00:00Z'), to: at('2026-11-11T12:00:00Z') });

    // Assess
    expect(narrow.examples).toBe(6);
    expect(narrow.lake!.removed).toBe(0);
    expect(await lakeCount()).toEqual({ rows: 24, ids: 24 });
  });

  it('leaves the hours it cannot label yet to a later build', async () => {
    // Prepare: a first build at a late cut-off labels every hour.
    await writeLake(lakeDir, traffic(24));
    await build();

    // Act: a build at an earlier cut-off labels the impressions up to 11:00 only.
    const early = await build({ cutoff: at('2026-11-11T12:00:00Z') });

    // Assess
    expect(early.labelledUntil).toEqual(at('2026-11-11T11:00:00Z'));
    expect(early.examples).toBe(11);
    expect(await lakeCount()).toEqual({ rows: 24, ids: 24 });
  });

  it('writes the csv contract of adclick train: a header, click, one column per snapshot key, empty when missing, time order', async () => {
    // Prepare: keys that need quoting in SQL, JSON pointers and csv; strings that look like numbers.
    const extra: Record<number, Record<string, unknown>> = {
      0: { 'we"ird': 'v,"0"' },
      1: { "it's": 7 },
      2: { 'x/y': 'a/b' },
      4: { 't~1': "it's" },
      5: { flag: true },
    };
    await writeLake(
      lakeDir,
      traffic(6, (i) => ({ ad_id: `ad-${i}`, zip: String(10_000 + i), position: i + 1, flag: null, ...extra[i] })),
    );
    const csvPath = join(root, 'out', 'train.csv');

    // Act
    const result = await build({ csvPath });

    // Assess
    expect(result.csv).toEqual({
      path: csvPath,
      features: ['ad_id', 'flag', "it's", 'position', 't~1', 'we"ird', 'x/y', 'zip'],
      categorical: ['ad_id', 't~1', 'we"ird', 'x/y', 'zip'],
    });
    const lines = readFileSync(csvPath, 'utf8').trimEnd().split('\n');
    expect(lines).toEqual([
      `ad_id,flag,it's,position,t~1,"we""ird",x/y,zip,click`,
      'ad-0,,,1,,"v,""0""",,10000,1',
      'ad-1,,7,2,,,,10001,0',
      'ad-2,,,3,,,a/b,10002,0',
      'ad-3,,,4,,,,10003,1',
      "ad-4,,,5,it's,,,10004,0",
      'ad-5,true,,6,,,,10005,0',
    ]);
  });

  it('refuses a snapshot key named click, and then writes nothing', async () => {
    // Prepare
    await writeLake(
      lakeDir,
      traffic(3, () => ({ ad_id: 'ad-1', click: 1 })),
    );
    const csvPath = join(root, 'train.csv');

    // Act / Assess
    await expect(build({ csvPath })).rejects.toThrow(TrainingCsvError);
    await expect(build({ csvPath })).rejects.toThrow(/named "click"/);
    expect(existsSync(csvPath)).toBe(false);
    expect(existsSync(join(lakeDir, 'training_examples'))).toBe(false);
    expect(readdirSync(join(lakeDir, '.staging'))).toEqual([]);
  });

  it('writes a header-only csv and no lake file when nothing can be labelled', async () => {
    // Prepare
    await writeLake(lakeDir, traffic(3));
    const csvPath = join(root, 'train.csv');

    // Act
    const result = await build({ csvPath, cutoff: at('2026-11-11T00:30:00Z') });

    // Assess
    expect(result).toMatchObject({ examples: 0, positives: 0, lake: { files: [], removed: 0 } });
    expect(readFileSync(csvPath, 'utf8')).toBe('click\n');
  });

  it('works on an empty lake', async () => {
    // Act
    const result = await build();

    // Assess
    expect(result.examples).toBe(0);
  });

  it('refuses a range that is not whole hours, reversed, or too long, and a rate outside (0, 1]', async () => {
    // Act / Assess
    await expect(build({ from: at('2026-11-11T00:30:00Z') })).rejects.toThrow(/from must be a whole hour/);
    await expect(build({ from: TO, to: FROM })).rejects.toThrow(/to must be after from/);
    await expect(build({ to: at('2027-03-01T00:00:00Z') })).rejects.toThrow(/at most 92 days/);
    await expect(build({ negativeRate: 0 })).rejects.toThrow(TrainingSetRequestError);
    await expect(build({ windowSeconds: 1.5 })).rejects.toThrow(/windowSeconds/);
  });
});
