import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import {
  buildTrainingSet,
  type TrainingSetBuild,
  TrainingSetRequestError,
} from '../../lambdas/adapters/local/duckdb/training-set.js';
import { MAX_RANGE_DAYS, MAX_WINDOW_SECONDS } from '../../lambdas/adapters/local/duckdb/training-set-request.js';
import { DEFAULT_ATTRIBUTION_WINDOW_SECONDS } from '../../lambdas/core/lake/attribution.js';
import { parseRfc3339 } from '../../lambdas/core/schemas/common.js';
import { integer, number } from './train.js';

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/** An RFC 3339 time with a zone, or a date (midnight UTC). */
export function time(value: string): Date {
  const ms = parseRfc3339(DATE_ONLY.test(value) ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(ms)) {
    throw new InvalidArgumentError(
      'expected an RFC 3339 time with a zone (2026-12-01T10:00:00Z) or a date (2026-12-01)',
    );
  }
  return new Date(ms);
}

export interface BuildTrainingSetCommandOptions {
  readonly from: Date;
  readonly to: Date;
  readonly out?: string;
  readonly negativeRate: number;
  readonly window: number;
  readonly cutoff?: Date;
  readonly dataDir: string;
  readonly json: boolean;
}

/** The request fields as the options that set them, for error messages. */
const OPTION_OF: Readonly<Record<string, string>> = {
  from: '--from',
  to: '--to',
  cutoff: '--cutoff',
  windowSeconds: '--window',
  negativeRate: '--negative-rate',
};

/** What `adclick train` must be told about the CSV (its down-sampling and its string columns). */
export function trainArguments(build: TrainingSetBuild): string[] {
  const args: string[] = [];
  if (build.request.negativeRate < 1) args.push('--data-negative-rate', String(build.request.negativeRate));
  if (build.csv && build.csv.categorical.length > 0) args.push('--categorical', build.csv.categorical.join(','));
  return args;
}

function shellWord(s: string): string {
  return /^[A-Za-z0-9_./:=,@%+-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

/** `adclick build-training-set`: the build, then a summary on stdout (notes on stderr). */
export async function buildTrainingSetCommand(options: BuildTrainingSetCommandOptions): Promise<void> {
  const dataDir = resolve(options.dataDir);
  if (!existsSync(dataDir) || !statSync(dataDir).isDirectory()) {
    throw new Error(`--data-dir ${options.dataDir}: no such directory (the server's data dir, default ./.adclick)`);
  }
  const lakeDir = join(dataDir, 'lake');
  let build: TrainingSetBuild;
  try {
    build = await buildTrainingSet({
      lakeDir,
      from: options.from,
      to: options.to,
      cutoff: options.cutoff,
      windowSeconds: options.window,
      negativeRate: options.negativeRate,
      csvPath: options.out,
    });
  } catch (err) {
    if (err instanceof TrainingSetRequestError) {
      throw new Error(err.issues.map((i) => `${OPTION_OF[i.field] ?? i.field} ${i.message}`).join('; '));
    }
    throw err;
  }

  const iso = (d: Date) => d.toISOString();
  if (build.labelledUntil.getTime() < build.request.to.getTime()) {
    process.stderr.write(
      build.labelledUntil.getTime() <= build.request.from.getTime()
        ? `note: no hour of the range is labelled yet: its impressions are younger than the ${build.request.windowSeconds} s window at the cut-off ${iso(build.request.cutoff)}\n`
        : `note: the impressions from ${iso(build.labelledUntil)} on were left out: a build labels whole hours whose ${build.request.windowSeconds} s window has passed at the cut-off; build the range again later to label them\n`,
    );
  }
  if (build.examples === 0) process.stderr.write('warning: the build found no training examples\n');

  const train = trainArguments(build);
  const summary = {
    from: iso(build.request.from),
    to: iso(build.request.to),
    cutoff: iso(build.request.cutoff),
    labelled_until: iso(build.labelledUntil),
    window_seconds: build.request.windowSeconds,
    negative_rate: build.request.negativeRate,
    examples: build.examples,
    positives: build.positives,
    negatives: build.negatives,
    lake: build.lake && {
      dir: join(lakeDir, 'training_examples'),
      files: build.lake.files.length,
      replaced_files: build.lake.removed,
    },
    csv: build.csv && {
      path: resolve(build.csv.path),
      columns: build.csv.features,
      categorical: build.csv.categorical,
    },
    train_args: train,
    seconds: build.seconds,
  };
  if (options.json) {
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    return;
  }
  const lines = [
    `training set ${summary.from} .. ${summary.to} (labelled until ${summary.labelled_until}), window ${summary.window_seconds} s, negatives kept at rate ${summary.negative_rate}`,
    `examples ${build.examples}: ${build.positives} positives, ${build.negatives} negatives`,
  ];
  if (summary.lake) {
    lines.push(
      `lake: ${summary.lake.files} files in ${summary.lake.dir} (${summary.lake.replaced_files} files of an earlier build of these hours removed)`,
    );
  }
  if (summary.csv) {
    lines.push(`csv: ${summary.csv.path} (${summary.csv.columns.length} feature columns)`);
    lines.push(
      `train with: ${['adclick', 'train', '--data', summary.csv.path, ...train, '--out', 'MODEL_DIR'].map(shellWord).join(' ')}`,
    );
  }
  lines.push(`${build.seconds.toFixed(1)} s`, '');
  process.stdout.write(lines.join('\n'));
}

export function defineBuildTrainingSetCommand(program: Command): void {
  program
    .command('build-training-set')
    .summary('build training examples from the local lake (and a csv for `adclick train`)')
    .description(
      [
        'Build the training set from the local lake with the same SQL Athena runs in AWS (sql/training/training-set.sql): every prediction whose impression was shown in [--from, --to), with the feature snapshot the model scored, labelled 1 when a click (clicked = true) came within --window seconds after the impression. Impressions whose window has not passed at the cut-off are left out, a whole hour at a time (not yet labelled); fraud-flagged impressions give no example and flagged clicks do not count; replayed events count once.',
        'The rows are written into the lake as training_examples (Parquet, partitioned by prediction time); building the same hours again replaces their rows. With --out, they are also written as a csv in the contract of `adclick train`: a header, the label column `click`, one column per feature of the snapshots (an empty cell where a snapshot lacks it), rows in time order.',
        'Negatives can be down-sampled (--negative-rate r keeps each with probability r, chosen by a hash of the prediction id, so the same rows every time); the model must then be told, so that its probabilities are corrected back: pass the printed `train_args` (--data-negative-rate r) to `adclick train`.',
      ].join('\n\n'),
    )
    .requiredOption(
      '--from <time>',
      'first impression time, inclusive: a whole hour, RFC 3339 with a zone (2026-12-01T10:00:00Z) or a date (midnight UTC)',
      time,
    )
    .requiredOption(
      '--to <time>',
      `end of the impression times, exclusive: a whole hour, at most ${MAX_RANGE_DAYS} days after --from`,
      time,
    )
    .option('--out <file>', 'also write the examples as a csv for `adclick train` (its folder is created)')
    .addOption(
      new Option('--negative-rate <r>', 'keep each negative with probability r in (0, 1]; kept negatives weigh 1/r')
        .argParser(number)
        .default(1),
    )
    .addOption(
      new Option(
        '--window <seconds>',
        `attribution window: a click counts up to this long after its impression (at most ${MAX_WINDOW_SECONDS})`,
      )
        .argParser(integer)
        .default(DEFAULT_ATTRIBUTION_WINDOW_SECONDS),
    )
    .option(
      '--cutoff <time>',
      "the build's cut-off: it labels the whole hours of impressions whose window has passed by then (default: now)",
      time,
    )
    .option(
      '--data-dir <dir>',
      'the data dir whose lake/ is read and written (env ADCLICK_DATA_DIR)',
      process.env.ADCLICK_DATA_DIR ?? './.adclick',
    )
    .option('--json', 'print a JSON summary (counts, files, csv columns, train_args, seconds)', false)
    .action(async (parsed: BuildTrainingSetCommandOptions) => {
      await buildTrainingSetCommand(parsed);
    });
}
