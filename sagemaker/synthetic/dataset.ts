/**
 * The synthetic data set on disk, written as a stream (constant memory in the row count):
 *
 *   train.csv        the earlier rows (csv contract: header, `click`, empty = missing)
 *   test.csv         the later rows
 *   test.truth.txt   the true click probability of each test row, one a line
 *   test.cold.txt    each test row's cold-start flags, one a line: 0 user and ad seen in train,
 *                    1 (COLD_USER) user never in train, 2 (COLD_AD) ad never in train, 3 both
 *   meta.json        the resolved options, the solved base, counts, click rates, column roles
 *
 * Every file is written under a temporary name and renamed when complete, meta.json last, so a
 * folder with a meta.json holds a whole data set.
 */
import { closeSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import {
  CSV_HEADER,
  csvLine,
  FEATURE_COLUMNS,
  featuresOf,
  NUMERIC_COLUMNS,
  type SyntheticFeatures,
} from './columns.js';
import type { ResolvedSyntheticOptions, SyntheticOptions } from './options.js';
import { COLD_AD, COLD_USER, createTraffic } from './traffic.js';

export const SYNTHETIC_FORMAT = 'adclick-synthetic/1';

export const SYNTHETIC_FILES = {
  train: 'train.csv',
  test: 'test.csv',
  truth: 'test.truth.txt',
  cold: 'test.cold.txt',
  meta: 'meta.json',
} as const;

export interface SyntheticExample {
  readonly test: boolean;
  readonly features: SyntheticFeatures;
  readonly label: 0 | 1;
  readonly trueProbability: number;
  /** COLD_USER | COLD_AD (test rows only). */
  readonly cold: number;
}

/** Every row of the data set, train then test, as objects (for tests and small experiments). */
export function* syntheticExamples(options: SyntheticOptions = {}): Generator<SyntheticExample> {
  const traffic = createTraffic(options);
  const row = traffic.row;
  while (traffic.step()) {
    yield {
      test: row.test,
      features: featuresOf(traffic.world, row.impression),
      label: row.label,
      trueProbability: row.trueProbability,
      cold: row.cold,
    };
  }
}

export interface SplitSummary {
  readonly rows: number;
  readonly clicks: number;
  readonly ctr: number;
  readonly meanTrueProbability: number;
}

export interface SyntheticSummary {
  readonly format: typeof SYNTHETIC_FORMAT;
  readonly options: ResolvedSyntheticOptions;
  readonly base: number;
  readonly train: SplitSummary;
  readonly test: SplitSummary & {
    readonly coldUserRows: number;
    readonly coldAdRows: number;
    /** Rows with a cold user, a cold ad or both. */
    readonly coldRows: number;
  };
  readonly columns: { readonly numeric: readonly string[]; readonly categorical: readonly string[] };
  readonly files: typeof SYNTHETIC_FILES;
}

/** A file written through a string buffer of about `chunk` characters, under a temporary name until closed. */
class BufferedFile {
  private buffer = '';
  private readonly fd: number;
  private readonly temporary: string;

  constructor(
    private readonly path: string,
    private readonly chunk = 1 << 20,
  ) {
    this.temporary = `${path}.partial`;
    this.fd = openSync(this.temporary, 'w');
  }

  write(text: string): void {
    this.buffer += text;
    if (this.buffer.length >= this.chunk) this.flush();
  }

  private flush(): void {
    if (this.buffer.length > 0) writeSync(this.fd, this.buffer);
    this.buffer = '';
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
    renameSync(this.temporary, this.path);
  }
}

export interface WriteOptions {
  /** Called every `progressEvery` rows with the rows written so far. */
  readonly onProgress?: (rows: number, total: number) => void;
  readonly progressEvery?: number;
}

/** Writes the data set of `options` into `dir` (created if needed); returns what meta.json holds. */
export function writeSyntheticDataset(
  dir: string,
  options: SyntheticOptions = {},
  write: WriteOptions = {},
): SyntheticSummary {
  mkdirSync(dir, { recursive: true });
  const traffic = createTraffic(options);
  const { world, row } = traffic;
  const train = new BufferedFile(join(dir, SYNTHETIC_FILES.train));
  const test = new BufferedFile(join(dir, SYNTHETIC_FILES.test));
  const truth = new BufferedFile(join(dir, SYNTHETIC_FILES.truth));
  const cold = new BufferedFile(join(dir, SYNTHETIC_FILES.cold));
  train.write(CSV_HEADER);
  test.write(CSV_HEADER);
  const counts = { train: { clicks: 0, p: 0 }, test: { clicks: 0, p: 0 }, coldUser: 0, coldAd: 0, cold: 0 };
  const every = write.progressEvery ?? 1_000_000;
  while (traffic.step()) {
    const line = csvLine(world, row.impression, row.label);
    if (row.test) {
      test.write(line);
      truth.write(`${row.trueProbability.toPrecision(9)}\n`);
      cold.write(`${row.cold}\n`);
      counts.test.clicks += row.label;
      counts.test.p += row.trueProbability;
      if (row.cold & COLD_USER) counts.coldUser++;
      if (row.cold & COLD_AD) counts.coldAd++;
      if (row.cold !== 0) counts.cold++;
    } else {
      train.write(line);
      counts.train.clicks += row.label;
      counts.train.p += row.trueProbability;
    }
    if (write.onProgress && (row.index + 1) % every === 0) write.onProgress(row.index + 1, traffic.rows);
  }
  for (const f of [train, test, truth, cold]) f.close();

  const o = world.options;
  const split = (rows: number, c: { clicks: number; p: number }): SplitSummary => ({
    rows,
    clicks: c.clicks,
    ctr: c.clicks / rows,
    meanTrueProbability: c.p / rows,
  });
  const summary: SyntheticSummary = {
    format: SYNTHETIC_FORMAT,
    options: o,
    base: world.base,
    train: split(o.trainRows, counts.train),
    test: {
      ...split(o.testRows, counts.test),
      coldUserRows: counts.coldUser,
      coldAdRows: counts.coldAd,
      coldRows: counts.cold,
    },
    columns: {
      numeric: [...NUMERIC_COLUMNS],
      categorical: FEATURE_COLUMNS.filter((c) => !NUMERIC_COLUMNS.includes(c)),
    },
    files: SYNTHETIC_FILES,
  };
  const meta = new BufferedFile(join(dir, SYNTHETIC_FILES.meta));
  meta.write(`${JSON.stringify(summary, null, 2)}\n`);
  meta.close();
  return summary;
}
