import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import cliProgress from 'cli-progress';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { DATA_FORMATS, type DataFormat, openTrainingData, parseColumnList } from '../../sagemaker/data/index.js';
import { HYPERPARAMETERS, parseHyperparameter } from '../../sagemaker/hyperparameters.js';
import {
  type CrossEvent,
  type ExampleSource,
  type PassReport,
  saveModel,
  type TrainOptions,
  trainModel,
} from '../../sagemaker/index.js';
import { formatPairedGain } from '../../sagemaker/model/cross-selection.js';

// ---------------------------------------------------------------- argument parsers

export function number(value: string): number {
  const x = Number(value);
  if (value.trim() === '' || !Number.isFinite(x)) throw new InvalidArgumentError('expected a number');
  return x;
}

export function integer(value: string): number {
  const x = number(value);
  if (!Number.isInteger(x)) throw new InvalidArgumentError('expected an integer');
  return x;
}

export function columnList(value: string, previous: string[] = []): string[] {
  const names = parseColumnList(value);
  if (names.length === 0) throw new InvalidArgumentError('expected comma-separated column names');
  return [...previous, ...names];
}

/** Refuses a path that is not a readable regular file, naming the option it came from. */
export function checkInputFile(path: string, option: string): void {
  if (!existsSync(path)) throw new Error(`${option} ${path}: no such file`);
  if (!statSync(path).isFile()) throw new Error(`${option} ${path}: not a regular file`);
}

export function formatOption(help: string): Option {
  return new Option('--format <format>', help).choices(DATA_FORMATS);
}

// ---------------------------------------------------------------- hyperparameters

/**
 * Every hyperparameter flag of `train`, from the table the SageMaker container reads too
 * (sagemaker/hyperparameters.ts): a boolean that defaults to true becomes `--no-name`. The
 * ranges are checked by trainModel, which names the option in its message.
 */
interface HyperparameterFlag {
  /** Commander's flag spec: `--name <value>`, or `--no-name` for a boolean that defaults to true. */
  readonly flags: string;
  readonly option: keyof TrainOptions;
  readonly description: string;
  readonly parse?: (value: string) => number;
}

export const HYPERPARAMETER_FLAGS: readonly HyperparameterFlag[] = HYPERPARAMETERS.map((h) =>
  h.kind === 'boolean'
    ? {
        flags: `--no-${h.name}`,
        option: h.option,
        description: h.off ?? h.description,
      }
    : {
        flags: `--${h.name} <${h.kind === 'integer' ? 'n' : 'x'}>`,
        option: h.option,
        description: h.description,
        parse: (value: string) => {
          try {
            return parseHyperparameter(h, value) as number;
          } catch (err) {
            throw new InvalidArgumentError((err as Error).message);
          }
        },
      },
);

function addHyperparameterOptions(command: Command): Command {
  for (const flag of HYPERPARAMETER_FLAGS) {
    const option = new Option(flag.flags, flag.description).helpGroup('Hyperparameters:');
    command.addOption(flag.parse ? option.argParser(flag.parse) : option);
  }
  return command;
}

/** The TrainOptions the parsed flags ask for (options not given are left to the trainer's defaults). */
export function hyperparametersFrom(parsed: Record<string, unknown>): TrainOptions {
  const out: Record<string, unknown> = {};
  for (const flag of HYPERPARAMETER_FLAGS) {
    const value = parsed[new Option(flag.flags).attributeName()];
    if (value !== undefined) out[flag.option] = value;
  }
  return out as TrainOptions;
}

// ---------------------------------------------------------------- progress

/**
 * Row progress of one read at a time, drawn as a bar (with rows/s) on stderr when it is a
 * terminal; lines logged through it appear above the bar. It counts rows either way.
 */
export interface Progress {
  /** Begins a read; `total` rows, or null when unknown. */
  start(label: string, total: number | null): void;
  /** The rows read so far in the current read. */
  update(rows: number): void;
  /** Ends the current read and returns its row count (0 when none is running). */
  done(): number;
  /** A line on stderr (above the bar). */
  log(line: string): void;
  stop(): void;
}

/** How often the bar is redrawn: training blocks the event loop, so the bar is drawn from update(). */
const REDRAW_MS = 100;
const BAR_WIDTH = 30;

interface BarPayload {
  label: string;
  rows: number;
  total: number | null;
  rate: number;
}

function formatBar(_options: unknown, _params: unknown, payload: BarPayload): string {
  const rows = payload.rows.toLocaleString('en-US');
  const rate = `${Math.round(payload.rate).toLocaleString('en-US')} rows/s`;
  if (payload.total === null || payload.total <= 0) return `${payload.label} | ${rows} rows | ${rate}`;
  const share = Math.min(1, payload.rows / payload.total);
  const filled = Math.round(share * BAR_WIDTH);
  const eta = payload.rate > 0 ? `${Math.ceil((payload.total - payload.rows) / payload.rate)} s` : '-';
  return `${payload.label} [${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}] ${(100 * share).toFixed(0)}% | ${rows}/${payload.total.toLocaleString('en-US')} rows | ${rate} | ETA ${eta}`;
}

export function createProgress(draw: boolean): Progress {
  const bars = draw
    ? new cliProgress.MultiBar({ stream: process.stderr, hideCursor: true, clearOnComplete: true, format: formatBar })
    : null;
  let bar: cliProgress.SingleBar | null = null;
  const payload: BarPayload = { label: '', rows: 0, total: null, rate: 0 };
  let running = false;
  let startedAt = 0;
  let drawnAt = 0;
  const redraw = () => {
    if (!bars) return;
    bar ??= bars.create(1, 0, payload);
    bar.update(0, payload);
    bars.update();
    drawnAt = performance.now();
  };
  return {
    start(label, total) {
      running = true;
      startedAt = performance.now();
      Object.assign(payload, { label, total, rows: 0, rate: 0 });
      redraw();
    },
    update(rows) {
      payload.rows = rows;
      const now = performance.now();
      payload.rate = now > startedAt ? (rows * 1000) / (now - startedAt) : 0;
      if (bars && now - drawnAt >= REDRAW_MS) redraw();
    },
    done() {
      if (!running) return 0;
      running = false;
      return payload.rows;
    },
    log(line) {
      if (!bars) {
        process.stderr.write(`${line}\n`);
        return;
      }
      bars.log(`${line}\n`);
      redraw();
    },
    stop() {
      this.done();
      bars?.stop();
    },
  };
}

// ---------------------------------------------------------------- the command

export interface TrainCommandOptions {
  readonly data: string;
  readonly format: DataFormat;
  /** A file, false for --no-valid, undefined for the held-out tail. */
  readonly valid: string | false | undefined;
  readonly out: string;
  readonly categorical: readonly string[];
  readonly numeric: readonly string[];
  readonly json: boolean;
  readonly progress: boolean;
  readonly hyperparameters: TrainOptions;
}

interface PassLine {
  pass: number;
  refit: boolean;
  train_logloss: number;
  validation_logloss: number | null;
}

/** What `train --json` prints. */
export interface TrainSummary {
  model: string;
  data: string;
  format: DataFormat;
  rows: number;
  positives: number | null;
  validation: { source: unknown; file?: string; rows: unknown };
  columns: { numeric: string[]; categorical: string[] };
  passes: unknown;
  best_pass: unknown;
  validation_logloss: unknown;
  history: PassLine[];
  /** What cross selection did (the model's metrics.crosses). */
  crosses: unknown;
  seconds: number;
  scan_seconds: number;
  train_seconds: number;
  rows_read: number;
  examples_per_second: number;
  hyperparameters: unknown;
}

function formatLoss(x: number | null): string {
  return x === null || !Number.isFinite(x) ? '-' : x.toFixed(5);
}

/** A progress line for a step of cross selection: the pass lines that follow belong to its model. */
export function describeCrossEvent(e: CrossEvent): string {
  const list = e.crosses.map(([a, b]) => `${a} × ${b}`).join(', ');
  if (e.stage === 'chosen') {
    const where = `${e.pairs} pairs screened (learned on ${e.learnRows} training rows, chosen on ${e.chooseRows})`;
    return e.crosses.length === 0
      ? `crosses: ${where}, none chosen`
      : `crosses: ${where}, chose ${list}; training again with them`;
  }
  const verdict = e.kept ? 'kept' : 'refused';
  return (
    `crosses ${verdict} on ${e.rows} held-out rows: log-loss gain ${formatPairedGain(e.gain, e.se)} ` +
    `(${e.kept ? 'at least' : 'needs'} ${e.minSe} standard errors above 0)`
  );
}

/** `adclick train`: scan, type the columns, train, save; a summary on stdout. */
export async function train(options: TrainCommandOptions): Promise<void> {
  const started = performance.now();
  checkInputFile(options.data, '--data');
  if (options.valid) checkInputFile(options.valid, '--valid');
  if (options.valid && options.hyperparameters.validationFraction !== undefined) {
    throw new Error('--valid-frac holds out training rows; it cannot be combined with --valid FILE');
  }
  if (options.valid === false && options.hyperparameters.validationFraction !== undefined) {
    throw new Error('--valid-frac and --no-valid contradict each other');
  }
  const progress: Progress = createProgress(options.progress && process.stderr.isTTY === true);
  const say = (line: string) => progress.log(line);
  let summary: TrainSummary;
  // Whatever happens, the terminal gets its cursor back and the bar is cleared.
  try {
    let scanning = '';
    const data = openTrainingData(options.data, {
      format: options.format,
      validationPath: options.valid || undefined,
      overrides: { categorical: options.categorical, numeric: options.numeric },
      onScanProgress: (file, rows) => {
        if (file !== scanning) {
          scanning = file;
          progress.start(`scanning ${file}`, null);
        }
        progress.update(rows);
      },
    });
    progress.done();
    const scanSeconds = (performance.now() - started) / 1000;
    const numeric = [...data.types].filter(([, kind]) => kind === 'numeric').map(([name]) => name);
    const categorical = [...data.types].filter(([, kind]) => kind === 'categorical').map(([name]) => name);
    const { rows, positives } = data.trainScan;
    say(
      `${options.data}: ${rows} rows, ${positives} clicks (${((100 * (positives ?? 0)) / rows).toFixed(3)} %); ` +
        `${numeric.length} numeric, ${categorical.length} categorical columns (${scanSeconds.toFixed(1)} s)`,
    );

    let rowsRead = 0;
    let reads = 0;
    const onProgress = (rowsSoFar: number) => progress.update(rowsSoFar);
    const trainSource = data.train.examples({}, { onProgress });
    const validationSource = data.validation?.examples({}, { onProgress }) ?? null;
    const tracked =
      (source: ExampleSource, label: string, total: number): ExampleSource =>
      () => {
        reads++;
        rowsRead += progress.done();
        progress.start(`${label}, read ${reads}`, total);
        return source();
      };

    const passes: PassLine[] = [];
    const trainOptions: TrainOptions = {
      ...options.hyperparameters,
      ...(options.valid === false ? { validationFraction: 0 } : {}),
      ...(validationSource && data.validationScan
        ? { validation: tracked(validationSource, options.valid as string, data.validationScan.rows) }
        : {}),
      fields: data.train.fields,
      metadata: { ...data.metadata },
      onCrosses: (event: CrossEvent) => say(describeCrossEvent(event)),
      onPass: (report: PassReport) => {
        passes.push({
          pass: report.pass,
          refit: report.refit,
          train_logloss: report.train_logloss,
          validation_logloss: report.validation_logloss,
        });
        say(
          `${report.refit ? 'refit ' : ''}pass ${report.pass}: train log loss ${formatLoss(report.train_logloss)}, ` +
            `validation log loss ${formatLoss(report.validation_logloss)}${report.best ? ' (best)' : ''}`,
        );
      },
    };
    const trainingStarted = performance.now();
    const model = await trainModel(tracked(trainSource, options.data, rows), trainOptions);
    rowsRead += progress.done();
    const trainSeconds = (performance.now() - trainingStarted) / 1000;
    await saveModel(options.out, model);
    const seconds = (performance.now() - started) / 1000;

    const metrics = model.metrics as Record<string, unknown>;
    summary = {
      model: resolve(options.out),
      data: options.data,
      format: options.format,
      rows,
      positives,
      validation: options.valid
        ? { source: 'file', file: options.valid, rows: data.validationScan?.rows ?? null }
        : { source: metrics.early_stopping ?? null, rows: metrics.validation_rows ?? null },
      columns: { numeric, categorical },
      passes: metrics.passes ?? passes.length,
      best_pass: metrics.best_pass ?? null,
      validation_logloss: metrics.validation_logloss ?? null,
      history: passes,
      crosses: metrics.crosses ?? null,
      seconds,
      scan_seconds: scanSeconds,
      train_seconds: trainSeconds,
      rows_read: rowsRead,
      examples_per_second: rowsRead / trainSeconds,
      hyperparameters: model.hyperparameters,
    };
  } finally {
    progress.stop();
  }
  if (options.json) {
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    return;
  }
  const loss = typeof summary.validation_logloss === 'number' ? summary.validation_logloss : null;
  process.stdout.write(
    [
      `saved ${summary.model}`,
      `rows ${summary.rows}, passes ${String(summary.passes)} (best ${String(summary.best_pass ?? '-')}), validation log loss ${formatLoss(loss)}`,
      `${summary.seconds.toFixed(1)} s (scan ${summary.scan_seconds.toFixed(1)} s), ${Math.round(summary.examples_per_second)} examples/s`,
      '',
    ].join('\n'),
  );
}

export function defineTrainCommand(program: Command): void {
  const command = program
    .command('train')
    .summary('train a model from a csv or criteo file')
    .description(
      [
        'Train a model from a data file and save it as a model folder.',
        'csv: a header row; the label column is `click` (0 or 1); every other column is a feature; an empty cell is missing. A column whose every non-empty cell (in --data and --valid) is a finite number is numeric, the rest are categorical (their values compared as strings). --categorical and --numeric override that; the typing is stored in the model and applied when it scores. Standard csv quoting (RFC 4180) is understood.',
        'criteo: tab-separated, no header: the label, I1..I13 (numeric), C1..C26 (categorical).',
        'Rows are in time order. Early stopping uses --valid FILE when given; otherwise the time-latest --valid-frac of the rows (then, unless --no-refit, the model is retrained on all rows for the best number of passes).',
        'Progress goes to stderr (a bar when stderr is a terminal), the summary to stdout.',
      ].join('\n\n'),
    )
    .requiredOption('--data <file>', 'training rows')
    .addOption(formatOption('input format').default('csv'))
    .option('--valid <file>', 'time-later validation rows for early stopping (same columns as --data)')
    .option('--no-valid', 'no early stopping: train all --passes on all rows')
    .requiredOption('--out <dir>', 'model folder to write (created if needed)')
    .option('--categorical <columns>', 'csv columns to treat as categorical, comma-separated', columnList, [])
    .option(
      '--numeric <columns>',
      'csv columns to treat as numeric (an error if one holds a non-number)',
      columnList,
      [],
    )
    .option('--json', 'print a JSON summary (rows, passes, validation log loss per pass, seconds, examples/s)', false)
    .option('--no-progress', 'no progress bar, even on a terminal');
  addHyperparameterOptions(command).action(async (parsed: Record<string, unknown>) => {
    await train({
      data: parsed.data as string,
      format: parsed.format as DataFormat,
      valid: parsed.valid as string | false | undefined,
      out: parsed.out as string,
      categorical: (parsed.categorical as string[] | undefined) ?? [],
      numeric: (parsed.numeric as string[] | undefined) ?? [],
      json: parsed.json === true,
      progress: parsed.progress as boolean,
      hyperparameters: hyperparametersFrom(parsed),
    });
  });
}
