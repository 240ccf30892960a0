/**
 * Writes the model benchmark's synthetic data set (see sagemaker/synthetic/README.md):
 *
 *   node --import tsx bench/model/generate.ts --out DIR [--rows 250000] [--seed 1] [...]
 *
 * DIR receives train.csv, test.csv, test.truth.txt, test.cold.txt and meta.json (whose
 * content is also printed). `--rows` is split 80 / 20 into train and test unless
 * `--train-rows` / `--test-rows` say otherwise.
 */
import { Command } from 'commander';
import { type SyntheticOptions, writeSyntheticDataset } from '../../sagemaker/synthetic/index.js';
import { nonNegativeInt, number, positiveInt } from '../args.js';

const program = new Command()
  .name('generate')
  .description('Write the synthetic CTR data set of the model benchmark (train.csv, test.csv, truth and cold flags).')
  .requiredOption('--out <dir>', 'output folder (created if needed; its files are replaced)')
  .option('--rows <n>', 'total rows, split 80 % train / 20 % test', positiveInt, 250_000)
  .option('--train-rows <n>', 'train rows (overrides the split of --rows)', positiveInt)
  .option('--test-rows <n>', 'test rows (overrides the split of --rows)', positiveInt)
  .option('--seed <n>', 'seed of the world, the traffic and the clicks', nonNegativeInt, 1)
  .option('--ctr <p>', 'mean true click probability of the train traffic', number, 0.02)
  .option('--users <n>', 'users present from the start (default: rows / 4)', positiveInt)
  .option('--ads <n>', 'ads running from the start (default: rows / 250 within [100, 50 000])', positiveInt)
  .option('--sites <n>', 'sites (default: rows / 2 500 within [30, 5 000])', positiveInt)
  .option('--days <n>', 'days the data spans', number, 14)
  .option('--cold-users <share>', 'share of test rows from users who arrive in the test period', number, 0.1)
  .option('--cold-ads <share>', 'share of test rows for ads launched at the start of the test period', number, 0.05)
  .option('--interactions <scale>', 'scale of the pairwise interactions (0 = an additive world)', number, 1)
  .option('--quiet', 'print no progress', false)
  .parse();

const o = program.opts<{
  out: string;
  rows: number;
  trainRows?: number;
  testRows?: number;
  seed: number;
  ctr: number;
  users?: number;
  ads?: number;
  sites?: number;
  days: number;
  coldUsers: number;
  coldAds: number;
  interactions: number;
  quiet: boolean;
}>();

const trainRows = o.trainRows ?? Math.round(o.rows * 0.8);
const options: SyntheticOptions = {
  seed: o.seed,
  trainRows,
  testRows: o.testRows ?? Math.max(1, o.rows - trainRows),
  ctr: o.ctr,
  days: o.days,
  coldUsers: o.coldUsers,
  coldAds: o.coldAds,
  interactions: o.interactions,
  ...(o.users === undefined ? {} : { users: o.users }),
  ...(o.ads === undefined ? {} : { ads: o.ads }),
  ...(o.sites === undefined ? {} : { sites: o.sites }),
};

try {
  const t0 = performance.now();
  const summary = writeSyntheticDataset(o.out, options, {
    onProgress: o.quiet
      ? undefined
      : (rows, total) =>
          process.stderr.write(`  ${rows.toLocaleString('en-US')} / ${total.toLocaleString('en-US')} rows\n`),
  });
  const seconds = (performance.now() - t0) / 1000;
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  if (!o.quiet) {
    const rows = summary.train.rows + summary.test.rows;
    process.stderr.write(
      `wrote ${o.out} in ${seconds.toFixed(1)} s (${Math.round(rows / seconds).toLocaleString('en-US')} rows/s)\n`,
    );
  }
} catch (err) {
  if (!(err instanceof RangeError)) throw err;
  process.stderr.write(`generate: ${err.message}\n`);
  process.exit(2);
}
