import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  COLD_AD,
  COLD_USER,
  FEATURE_COLUMNS,
  LABEL_COLUMN,
  NUMERIC_COLUMNS,
  type SyntheticSummary,
  syntheticExamples,
  writeSyntheticDataset,
} from '../../../sagemaker/synthetic/index.js';
import { readCsv, readLines, tempDir } from './helpers.js';

const SMALL = { seed: 7, trainRows: 4_000, testRows: 1_000 };

function column(header: string[], name: string): number {
  const i = header.indexOf(name);
  if (i < 0) throw new Error(`no column ${name}`);
  return i;
}

describe('writeSyntheticDataset', () => {
  it('writes the same bytes for the same options', () => {
    // Prepare
    const a = tempDir();
    const b = tempDir();

    // Act
    writeSyntheticDataset(a, SMALL);
    writeSyntheticDataset(b, SMALL);

    // Assess
    for (const file of ['train.csv', 'test.csv', 'test.truth.txt', 'test.cold.txt', 'meta.json']) {
      expect(readFileSync(join(b, file)).equals(readFileSync(join(a, file))), file).toBe(true);
    }
  });

  it('writes other rows for another seed', () => {
    // Prepare
    const a = tempDir();
    const b = tempDir();

    // Act
    writeSyntheticDataset(a, SMALL);
    writeSyntheticDataset(b, { ...SMALL, seed: 8 });

    // Assess
    expect(readFileSync(join(b, 'train.csv'), 'utf8')).not.toBe(readFileSync(join(a, 'train.csv'), 'utf8'));
  });

  it('follows the csv contract: a header, a 0/1 click, numbers or empty cells in the numeric columns', () => {
    // Prepare
    const dir = tempDir();

    // Act
    writeSyntheticDataset(dir, SMALL);

    // Assess
    for (const file of ['train.csv', 'test.csv']) {
      const { header, rows } = readCsv(join(dir, file));
      expect(header).toEqual([LABEL_COLUMN, ...FEATURE_COLUMNS]);
      const numeric = NUMERIC_COLUMNS.map((c) => column(header, c));
      for (const row of rows) {
        expect(row).toHaveLength(header.length);
        expect(['0', '1']).toContain(row[0]);
        for (const i of numeric) {
          if (row[i] !== '') expect(Number.isFinite(Number(row[i])), `${header[i]}=${row[i]}`).toBe(true);
        }
      }
      // The categorical columns must not look numeric, or readers would detect them as numbers.
      for (const name of FEATURE_COLUMNS.filter((c) => !NUMERIC_COLUMNS.includes(c))) {
        const i = column(header, name);
        expect(
          rows.some((r) => r[i] !== '' && Number.isFinite(Number(r[i]))),
          name,
        ).toBe(false);
      }
    }
  });

  it('leaves some user segments, genders and ages empty (missing), as a real platform would', () => {
    // Prepare
    const dir = tempDir();

    // Act
    writeSyntheticDataset(dir, SMALL);

    // Assess
    const { header, rows } = readCsv(join(dir, 'train.csv'));
    for (const name of ['user_segment', 'gender', 'age']) {
      const i = column(header, name);
      const missing = rows.filter((r) => r[i] === '').length / rows.length;
      expect(missing, name).toBeGreaterThan(0.05);
      expect(missing, name).toBeLessThan(0.4);
    }
  });

  it('writes one true probability in (0, 1) and one cold flag per test row', () => {
    // Prepare
    const dir = tempDir();

    // Act
    const summary = writeSyntheticDataset(dir, SMALL);

    // Assess
    const testRows = readCsv(join(dir, 'test.csv')).rows.length;
    const truth = readLines(join(dir, 'test.truth.txt')).map(Number);
    const cold = readLines(join(dir, 'test.cold.txt'));
    expect(testRows).toBe(1_000);
    expect(summary.test.rows).toBe(1_000);
    expect(truth).toHaveLength(testRows);
    expect(cold).toHaveLength(testRows);
    for (const p of truth) {
      expect(p).toBeGreaterThan(0);
      expect(p).toBeLessThan(1);
    }
    for (const c of cold) expect(['0', '1', '2', '3']).toContain(c);
  });

  it('has a click rate between 1 % and 3 %, by its labels and by its true probabilities', () => {
    // Prepare
    const dir = tempDir();

    // Act
    const summary = writeSyntheticDataset(dir, { seed: 3, trainRows: 40_000, testRows: 10_000 });

    // Assess
    const labels = readCsv(join(dir, 'train.csv')).rows.map((r) => Number(r[0]));
    const ctr = labels.reduce((a, b) => a + b, 0) / labels.length;
    const truth = readLines(join(dir, 'test.truth.txt')).map(Number);
    const meanTruth = truth.reduce((a, b) => a + b, 0) / truth.length;
    for (const rate of [ctr, meanTruth, summary.train.meanTrueProbability, summary.test.ctr]) {
      expect(rate).toBeGreaterThan(0.01);
      expect(rate).toBeLessThan(0.03);
    }
    expect(summary.train.ctr).toBe(ctr);
  });

  it('solves its base for the requested click rate', () => {
    // Prepare
    const dir = tempDir();

    // Act
    const summary = writeSyntheticDataset(dir, { seed: 4, trainRows: 50_000, testRows: 1_000, ctr: 0.01 });

    // Assess
    expect(summary.train.meanTrueProbability).toBeGreaterThan(0.009);
    expect(summary.train.meanTrueProbability).toBeLessThan(0.011);
  });

  it('flags exactly the test rows whose user or ad has no train row', () => {
    // Prepare
    const dir = tempDir();

    // Act
    const summary = writeSyntheticDataset(dir, SMALL);

    // Assess
    const train = readCsv(join(dir, 'train.csv'));
    const test = readCsv(join(dir, 'test.csv'));
    const user = column(train.header, 'user_id');
    const ad = column(train.header, 'ad_id');
    const trainUsers = new Set(train.rows.map((r) => r[user]));
    const trainAds = new Set(train.rows.map((r) => r[ad]));
    const flags = readLines(join(dir, 'test.cold.txt')).map(Number);
    test.rows.forEach((r, i) => {
      const expected = (trainUsers.has(r[user]) ? 0 : COLD_USER) | (trainAds.has(r[ad]) ? 0 : COLD_AD);
      expect(flags[i], `test row ${i}: ${r[user]} ${r[ad]}`).toBe(expected);
    });
    expect(summary.test.coldUserRows).toBe(flags.filter((f) => f & COLD_USER).length);
    expect(summary.test.coldAdRows).toBe(flags.filter((f) => f & COLD_AD).length);
  });

  it('gives the test period new users and new ads in about the requested shares', () => {
    // Prepare
    const dir = tempDir();

    // Act
    const summary = writeSyntheticDataset(dir, { seed: 5, trainRows: 40_000, testRows: 10_000, coldAds: 0.08 });

    // Assess
    // Newcomers make up 10 % of test rows; established users without a train row add to that.
    expect(summary.test.coldUserRows / summary.test.rows).toBeGreaterThan(0.1);
    expect(summary.test.coldUserRows / summary.test.rows).toBeLessThan(0.35);
    expect(summary.test.coldAdRows / summary.test.rows).toBeGreaterThan(0.06);
    expect(summary.test.coldAdRows / summary.test.rows).toBeLessThan(0.12);
  });

  it('has no cold rows when neither new users nor new ads are asked for and every user and ad recurs', () => {
    // Prepare
    const dir = tempDir();

    // Act
    const summary = writeSyntheticDataset(dir, {
      seed: 6,
      trainRows: 20_000,
      testRows: 2_000,
      users: 50,
      ads: 20,
      coldUsers: 0,
      coldAds: 0,
    });

    // Assess
    expect(summary.test.coldRows).toBe(0);
  });

  it('puts the test rows later in time than the train rows: every ad ages from one row to the next', () => {
    // Prepare
    const dir = tempDir();

    // Act
    writeSyntheticDataset(dir, SMALL);

    // Assess
    const train = readCsv(join(dir, 'train.csv'));
    const test = readCsv(join(dir, 'test.csv'));
    const ad = column(train.header, 'ad_id');
    const age = column(train.header, 'ad_age_days');
    const last = new Map<string, number>();
    for (const r of [...train.rows, ...test.rows]) {
      const a = Number(r[age]);
      expect(a).toBeGreaterThanOrEqual(last.get(r[ad]!) ?? 0);
      last.set(r[ad]!, a);
    }
  });

  it('writes meta.json last, with what it returned, and leaves no partial file', () => {
    // Prepare
    const dir = tempDir();

    // Act
    const summary = writeSyntheticDataset(dir, SMALL);

    // Assess
    const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as SyntheticSummary;
    expect(meta).toEqual(summary);
    expect(meta.columns.numeric).toEqual([...NUMERIC_COLUMNS]);
    expect(readdirSync(dir).sort()).toEqual(['meta.json', 'test.cold.txt', 'test.csv', 'test.truth.txt', 'train.csv']);
    expect(existsSync(join(dir, 'train.csv.partial'))).toBe(false);
  });
});

describe('syntheticExamples', () => {
  it('yields the rows of the files: the same features, labels, probabilities and flags', () => {
    // Prepare
    const dir = tempDir();
    writeSyntheticDataset(dir, SMALL);
    const train = readCsv(join(dir, 'train.csv'));
    const test = readCsv(join(dir, 'test.csv'));
    const truth = readLines(join(dir, 'test.truth.txt')).map(Number);
    const cold = readLines(join(dir, 'test.cold.txt')).map(Number);

    // Act
    const examples = [...syntheticExamples(SMALL)];

    // Assess
    expect(examples).toHaveLength(5_000);
    const rows = [...train.rows, ...test.rows];
    examples.forEach((e, i) => {
      const cells = FEATURE_COLUMNS.map((c) => {
        const v = e.features[c];
        return v === null ? '' : String(v);
      });
      expect([String(e.label), ...cells]).toEqual(rows[i]);
      expect(e.test).toBe(i >= 4_000);
      if (e.test) {
        expect(e.trueProbability).toBeCloseTo(truth[i - 4_000]!, 8);
        expect(e.cold).toBe(cold[i - 4_000]);
      }
    });
  });
});
