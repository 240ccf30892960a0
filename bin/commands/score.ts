import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import type { Command } from 'commander';
import { type DataFormat, type Dataset, openScoringData, recordedDataFormat } from '../../sagemaker/data/index.js';
import { loadScorer, type Scorer } from '../../sagemaker/index.js';
import { checkInputFile, formatOption } from './train.js';

/** Strings are gathered up to this size before one write. */
const WRITE_CHUNK_CHARS = 1 << 16;

export interface ModelAndData {
  readonly scorer: Scorer;
  readonly format: DataFormat;
  readonly dataset: Dataset;
}

/**
 * Loads the model and opens the data file typed the way the model was trained. The format
 * defaults to the one the model was trained from. Warnings (model fields the file lacks, column
 * types not recorded in the model) go to stderr.
 */
export async function openModelAndData(
  modelDir: string,
  dataPath: string,
  format: DataFormat | undefined,
  labels: 'required' | 'optional',
): Promise<ModelAndData> {
  checkInputFile(dataPath, '--data');
  const scorer = await loadScorer(modelDir);
  const { fields, metadata } = scorer.manifest;
  const chosen = format ?? recordedDataFormat(metadata) ?? 'csv';
  const { dataset, typesFrom, missingFields } = openScoringData(dataPath, { format: chosen, fields, metadata, labels });
  if (missingFields.length > 0) {
    process.stderr.write(
      `warning: ${dataPath} lacks ${missingFields.length} of the model's ${fields.length} fields; they are missing in every row: ${missingFields.join(', ')}\n`,
    );
  }
  if (typesFrom === 'detected') {
    process.stderr.write(
      `warning: the model does not record its column types; they were detected from ${dataPath} (${chosen})\n`,
    );
  }
  return { scorer, format: chosen, dataset };
}

/** Warns about cells of numeric columns that were not numbers (scored as unseen categories). */
export function reportNonNumbers(dataset: Dataset): void {
  const { count, first } = dataset.nonNumberReport;
  if (count === 0 || first === null) return;
  process.stderr.write(
    `warning: ${count} cells of numeric columns are not numbers and were scored as unseen categories; the first: ${dataset.layout.file}:${first.line}: column ${first.column} holds ${JSON.stringify(first.value)}\n`,
  );
}

/** Where the predictions go: a file written in full then renamed into place, or stdout. */
interface Sink {
  write(text: string): Promise<void>;
  commit(): Promise<void>;
  abort(): void;
}

function fileSink(path: string): Sink {
  const temporary = `${path}.tmp-${process.pid}`;
  const fd = openSync(temporary, 'w');
  let open = true;
  return {
    async write(text) {
      writeSync(fd, text);
    },
    async commit() {
      fsyncSync(fd);
      closeSync(fd);
      open = false;
      renameSync(temporary, path);
    },
    abort() {
      if (open) closeSync(fd);
      open = false;
      rmSync(temporary, { force: true });
    },
  };
}

/** The reader of stdout went away (`adclick score --out - | head`): stop, as Unix tools do. */
class PipeClosedError extends Error {}

function stdoutSink(): Sink {
  let closed = false;
  // Without a listener an EPIPE on stdout is an uncaught error that kills the process with a stack.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    closed = true;
  });
  const write = (text: string) =>
    new Promise<void>((done, fail) => {
      if (closed) {
        fail(new PipeClosedError());
        return;
      }
      process.stdout.write(text, (error) => {
        if (!error) done();
        else fail((error as NodeJS.ErrnoException).code === 'EPIPE' ? new PipeClosedError() : error);
      });
    });
  return { write, commit: async () => {}, abort: () => {} };
}

export interface ScoreCommandOptions {
  readonly model: string;
  readonly data: string;
  readonly format?: DataFormat;
  /** A file, or '-' for stdout. */
  readonly out: string;
}

/** `adclick score`: one probability a line, in input order. */
export async function score(options: ScoreCommandOptions): Promise<void> {
  const started = performance.now();
  const { scorer, dataset } = await openModelAndData(options.model, options.data, options.format, 'optional');
  const sink = options.out === '-' ? stdoutSink() : fileSink(options.out);
  let rows = 0;
  try {
    let chunk = '';
    for (const features of dataset.featureMaps()()) {
      // String(p) is the shortest text that reads back as the same double: no precision is lost.
      chunk += `${scorer.score(features).probability}\n`;
      rows++;
      if (chunk.length >= WRITE_CHUNK_CHARS) {
        await sink.write(chunk);
        chunk = '';
      }
    }
    if (chunk !== '') await sink.write(chunk);
    await sink.commit();
  } catch (error) {
    sink.abort();
    if (error instanceof PipeClosedError) return;
    throw error;
  }
  reportNonNumbers(dataset);
  const seconds = (performance.now() - started) / 1000;
  process.stderr.write(
    `scored ${rows} rows of ${options.data} in ${seconds.toFixed(1)} s (${Math.round(rows / seconds)} rows/s)${
      options.out === '-' ? '' : ` into ${options.out}`
    }\n`,
  );
}

export function defineScoreCommand(program: Command): void {
  program
    .command('score')
    .summary('write the predicted click probability of every row of a file')
    .description(
      [
        'Score every row of a data file with a model: one probability a line, in input order.',
        "Columns are typed as the model was trained (its metadata records the typing). A cell of a numeric column that is not a number is scored as a category the model never saw, and a warning counts them. The model's fields that the file lacks are missing in every row. A `click` column, if any, is ignored; criteo rows may come without the label.",
        'The output file appears complete or not at all: it is written aside, then renamed.',
      ].join('\n\n'),
    )
    .requiredOption('--model <dir>', 'model folder')
    .requiredOption('--data <file>', 'rows to score')
    .addOption(formatOption('input format (default: the format the model was trained from, else csv)'))
    .requiredOption('--out <file>', "predictions file ('-' for stdout)")
    .action(async (parsed: { model: string; data: string; format?: DataFormat; out: string }) => {
      await score(parsed);
    });
}
