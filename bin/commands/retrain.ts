import { type Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_ATTRIBUTION_WINDOW_SECONDS } from '../../lambdas/core/lake/attribution.js';
import { type RetrainSummary, runRetrain } from '../../lambdas/pipeline/retrain.js';
import { DEFAULT_MIN_ROWS } from '../../lambdas/pipeline/steps/build-datasets.js';
import { time } from './build-training-set.js';
import { integer, number } from './train.js';

interface RetrainCommandOptions {
  readonly server: string;
  readonly token?: string;
  readonly dataDir: string;
  readonly from?: Date;
  readonly to?: Date;
  readonly holdoutHours?: number;
  readonly cutoff?: Date;
  readonly window: number;
  readonly negativeRate: number;
  readonly minRows: number;
  readonly passes?: number;
  readonly version?: string;
  readonly activate: boolean;
  readonly experiment?: number;
  readonly warmStart: boolean;
  readonly fresh: boolean;
  readonly json: boolean;
}

const STEP_NUMBER = { build: 1, train: 2, evaluate: 3, gate: 4, register: 5 } as const;

function fraction(value: string): number {
  const x = number(value);
  if (!(x > 0 && x < 1)) throw new InvalidArgumentError('expected a share of traffic in (0, 1), e.g. 0.1');
  return x;
}

function positiveInteger(value: string): number {
  const x = integer(value);
  if (x < 1) throw new InvalidArgumentError('expected a positive integer');
  return x;
}

const fmt = (x: number | null | undefined, digits: number) => (x === null || x === undefined ? '-' : x.toFixed(digits));

function text(s: RetrainSummary): string {
  const row = (name: string, m: RetrainSummary['candidate'] | null) =>
    m
      ? `  ${name.padEnd(10)} log loss ${fmt(m.logloss, 5)}  calibration ${fmt(m.calibration, 3)}  AUC ${fmt(m.auc, 4)}`
      : `  ${name.padEnd(10)} (none)`;
  const lines = [
    `training set [${s.windows.train.from}, ${s.windows.train.to}): ${s.rows.train} rows, ${s.rows.train_positives} clicks`,
    `holdout      [${s.windows.holdout.from}, ${s.windows.holdout.to}): ${s.rows.holdout} rows, ${s.rows.holdout_positives} clicks`,
    `training: ${s.training.warm_start ? `warm start from ${s.training.warm_start_from}` : s.training.fresh_reason ? `fresh (warm start not possible: ${s.training.fresh_reason})` : 'fresh'}`,
    `on the holdout (${s.holdout}):`,
    row('candidate', s.candidate),
    row(s.champion ? `champion` : 'champion', s.champion),
    `gate: ${s.gate.passed ? 'passed' : 'refused'}${s.gate.reasons.map((r) => `\n  - ${r}`).join('')}`,
    `model ${s.model.model_id} (version ${s.model.version}): ${s.model.alias ?? s.model.status}`,
  ];
  if (s.activation) lines.push(`activation: ${s.activation.activated ? 'done' : (s.activation.detail ?? 'no')}`);
  if (s.experiment) {
    const id = (s.experiment as { experiment_id?: string }).experiment_id;
    lines.push(`experiment: started${id ? ` (${id})` : ''}`);
  }
  lines.push(`${s.seconds.toFixed(1)} s`, '');
  return lines.join('\n');
}

export async function retrainCommand(options: RetrainCommandOptions): Promise<void> {
  const summary = await runRetrain(
    {
      server: options.server,
      token: options.token || process.env.ADCLICK_ADMIN_TOKEN || undefined,
      dataDir: options.dataDir,
      from: options.from,
      to: options.to,
      holdoutHours: options.holdoutHours,
      cutoff: options.cutoff,
      windowSeconds: options.window,
      negativeRate: options.negativeRate,
      minRows: options.minRows,
      hyperparameters: options.passes !== undefined ? { passes: String(options.passes) } : {},
      version: options.version,
      activate: options.activate,
      experimentWeight: options.experiment,
      warmStart: options.warmStart && !options.fresh,
    },
    (step, line) => process.stderr.write(`[${STEP_NUMBER[step]}/5 ${step}] ${line}\n`),
  );
  process.stdout.write(options.json ? `${JSON.stringify(summary, null, 2)}\n` : text(summary));
}

export function defineRetrainCommand(program: Command): void {
  program
    .command('retrain')
    .summary('run the retraining pipeline locally: build, train, evaluate, gate, register')
    .description(
      [
        "Run the SageMaker Pipeline's steps locally against a running server (docs/retraining.md): build the training set of [--from, --to) and the time-later holdout of [--to, --to + --holdout-hours) from the data dir's lake; train a candidate, fresh or with --warm-start continued from the champion's parameters (on the rows after the champion's training window unless --from is given; a champion it cannot continue from means a fresh training, and the summary says why); score it and the champion on that holdout; apply the gate of `PUT /model/activate`; register the candidate through the API and, if it passed, name it challenger. The holdout also replaces the server's (<data dir>/holdout/holdout.jsonl), so a later activation judges on the same rows.",
        'Defaults: the holdout ends at the last labelled hour (now minus the attribution window), it is a fifth of the whole range, and the training range is the 7 days before it.',
        'Progress goes to stderr, one line a step; the summary to stdout.',
      ].join('\n\n'),
    )
    .option('--from <time>', 'first training impression time, a whole hour (default: --to minus 7 days)', time)
    .option('--to <time>', 'end of the training range and start of the holdout, a whole hour', time)
    .addOption(
      new Option('--holdout-hours <n>', 'length of the holdout (default: a fifth of the whole range)').argParser(
        positiveInteger,
      ),
    )
    .option(
      '--cutoff <time>',
      'label only impressions whose attribution window has passed by then (default: now)',
      time,
    )
    .addOption(
      new Option('--window <seconds>', 'attribution window')
        .argParser(positiveInteger)
        .default(DEFAULT_ATTRIBUTION_WINDOW_SECONDS),
    )
    .addOption(
      new Option(
        '--negative-rate <r>',
        'keep each training negative with probability r in (0, 1] (the holdout keeps all)',
      )
        .argParser(number)
        .default(1),
    )
    .addOption(
      new Option('--min-rows <n>', 'fewest examples the training set and the holdout may hold')
        .argParser(positiveInteger)
        .default(DEFAULT_MIN_ROWS),
    )
    .addOption(
      new Option('--passes <n>', "maximum training passes (default: the trainer's)").argParser(positiveInteger),
    )
    .addOption(
      new Option(
        '--warm-start',
        "continue from the champion's parameters and optimizer state instead of training fresh",
      )
        .default(false)
        .conflicts('fresh'),
    )
    .option('--fresh', 'train the candidate from zero (the default)', false)
    .option('--version <version>', 'version label of the candidate (default: retrain-<time>)')
    .option('--activate', 'activate the candidate if the gate passed (the server runs the gate again)', false)
    .addOption(
      new Option(
        '--experiment <weight>',
        'start an experiment champion vs challenger, this share of traffic to the challenger',
      ).argParser(fraction),
    )
    .option('--server <url>', 'server base URL (env ADCLICK_URL)', process.env.ADCLICK_URL ?? 'http://127.0.0.1:3000')
    .option('--token <token>', 'admin bearer token (env ADCLICK_ADMIN_TOKEN; default: the token file in --data-dir)')
    .option(
      '--data-dir <dir>',
      "the server's data dir: its lake, holdout and admin token (env ADCLICK_DATA_DIR)",
      process.env.ADCLICK_DATA_DIR ?? './.adclick',
    )
    .option('--json', 'print a JSON summary', false)
    .action(async (parsed: RetrainCommandOptions) => {
      await retrainCommand(parsed);
    });
}
