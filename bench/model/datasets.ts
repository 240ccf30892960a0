/**
 * The model benchmark's data sets: the synthetic one (generated once per set of options and
 * reused, since it is a deterministic function of them) and the real Criteo and Avazu samples
 * when the peer benchmark's data folder is there (split by prepare_real.py; for non-commercial
 * benchmarking only, so they stay under the data folder and never enter the repository).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import {
  resolveSyntheticOptions,
  SYNTHETIC_FILES,
  SYNTHETIC_FORMAT,
  type SyntheticOptions,
  type SyntheticSummary,
  writeSyntheticDataset,
} from '../../sagemaker/synthetic/index.js';
import { log } from '../support.js';
import { prepareReal, realDataDir } from './peers.js';

export const DATASETS = ['synthetic', 'criteo', 'avazu'] as const;
export type DatasetName = (typeof DATASETS)[number];

export interface Dataset {
  readonly name: DatasetName;
  readonly dir: string;
  readonly train: string;
  readonly test: string;
  /** True click probability of each test row (synthetic only). */
  readonly truth?: string;
  /** Cold-start flags of each test row (synthetic only). */
  readonly cold?: string;
  readonly synthetic?: SyntheticSummary;
}

/** The synthetic data set of these options under `root`, generated unless a complete one is there. */
export function syntheticDataset(root: string, options: SyntheticOptions): Dataset {
  const o = resolveSyntheticOptions(options);
  const dir = join(root, `synthetic-seed${o.seed}-${o.trainRows}-${o.testRows}`);
  const metaFile = join(dir, SYNTHETIC_FILES.meta);
  let summary: SyntheticSummary | undefined;
  if (existsSync(metaFile)) {
    const meta = JSON.parse(readFileSync(metaFile, 'utf8')) as SyntheticSummary;
    if (meta.format === SYNTHETIC_FORMAT && JSON.stringify(meta.options) === JSON.stringify(o)) summary = meta;
  }
  if (summary) {
    log(`synthetic data: reusing ${dir}`);
  } else {
    log(`synthetic data: generating ${(o.trainRows + o.testRows).toLocaleString('en-US')} rows into ${dir}`);
    const t0 = performance.now();
    summary = writeSyntheticDataset(dir, o);
    log(`  done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  return {
    name: 'synthetic',
    dir,
    train: join(dir, SYNTHETIC_FILES.train),
    test: join(dir, SYNTHETIC_FILES.test),
    truth: join(dir, SYNTHETIC_FILES.truth),
    cold: join(dir, SYNTHETIC_FILES.cold),
    synthetic: summary,
  };
}

/**
 * Criteo and Avazu in the csv contract under `root/real`, or the reason they are not available
 * (no data folder beside the peer benchmark: users of the repository do not have it).
 */
export function realDatasets(
  root: string,
  peersDir: string,
  wanted: readonly DatasetName[],
): { datasets: Dataset[]; skipped?: string } {
  const names = wanted.filter((n) => n !== 'synthetic');
  if (names.length === 0) return { datasets: [] };
  const source = realDataDir(peersDir);
  if (!existsSync(source)) {
    return { datasets: [], skipped: `${names.join(' and ')} skipped: ${source} does not exist` };
  }
  const out = join(root, 'real');
  prepareReal(peersDir, out);
  writeFileSync(
    join(out, 'LICENSE-NOTE.txt'),
    'Criteo and Avazu samples: for non-commercial benchmarking only. Never commit or redistribute them.\n',
  );
  return {
    datasets: names.map((name) => ({
      name,
      dir: join(out, name),
      train: join(out, name, 'train.csv'),
      test: join(out, name, 'test.csv'),
    })),
  };
}

/**
 * Writes the test rows whose cold flag is not 0 (with the header), the matching lines of each
 * prediction file and of the truth file into `dir`; returns the new paths and the row count.
 */
export function coldSubset(
  dir: string,
  dataset: Dataset,
  predictions: readonly string[],
): { test: string; truth: string; predictions: string[]; rows: number } {
  const lines = (path: string) => {
    const l = readFileSync(path, 'utf8').split('\n');
    if (l.at(-1) === '') l.pop();
    return l;
  };
  if (!dataset.cold || !dataset.truth) throw new Error(`${dataset.name} has no cold-start flags`);
  const flags = lines(dataset.cold);
  const keep = flags.map((f) => f !== '0');
  const [header, ...rows] = lines(dataset.test);
  if (rows.length !== flags.length) {
    throw new Error(`${dataset.test} has ${rows.length} rows but ${dataset.cold} ${flags.length} flags`);
  }
  const pick = (all: string[], what: string): string => {
    if (all.length !== keep.length) throw new Error(`${what} has ${all.length} lines for ${keep.length} test rows`);
    const out: string[] = [];
    for (let i = 0; i < all.length; i++) if (keep[i]) out.push(all[i]!);
    return out.length ? `${out.join('\n')}\n` : '';
  };
  const test = join(dir, 'test.cold.csv');
  writeFileSync(test, `${header}\n${pick(rows, dataset.test)}`);
  const truth = join(dir, 'truth.cold.txt');
  writeFileSync(truth, pick(lines(dataset.truth), dataset.truth));
  const out = predictions.map((p) => {
    const path = join(dir, basename(p));
    writeFileSync(path, pick(lines(p), p));
    return path;
  });
  return { test, truth, predictions: out, rows: keep.filter(Boolean).length };
}
