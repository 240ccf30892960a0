import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import type { DataFormat } from '../../sagemaker/data/index.js';
import { binaryEntropy, evaluate as evaluatePredictions, reliabilityDiagram } from '../../sagemaker/model/metrics.js';
import { openModelAndData, reportNonNumbers } from './score.js';
import { formatOption, integer } from './train.js';

/** A typed array that doubles as it fills: a fixed number of bytes a row, no boxed numbers. */
class Growing<T extends Float64Array | Uint8Array> {
  #values: T;
  #length = 0;

  constructor(readonly create: (length: number) => T) {
    this.#values = create(1 << 16);
  }

  push(x: number): void {
    if (this.#length === this.#values.length) {
      const grown = this.create(this.#values.length * 2);
      grown.set(this.#values);
      this.#values = grown;
    }
    this.#values[this.#length++] = x;
  }

  view(): T {
    return this.#values.subarray(0, this.#length) as T;
  }
}

export interface EvaluateCommandOptions {
  readonly model: string;
  readonly data: string;
  readonly format?: DataFormat;
  readonly bins: number;
  readonly reliability: 'quantile' | 'uniform';
}

/**
 * `adclick evaluate`: the model's metrics on a labelled file, as JSON on stdout. The metric keys
 * and definitions are those of the peer benchmark's score_preds.py (logloss, auc, ne, calibration,
 * mean_pred), so the two can be compared number for number.
 */
export async function evaluate(options: EvaluateCommandOptions): Promise<void> {
  const started = performance.now();
  const { scorer, format, dataset } = await openModelAndData(options.model, options.data, options.format, 'required');
  // The AUC needs every prediction: 8 bytes a row, 1 for the label (and a sorted copy later).
  const predictions = new Growing((n) => new Float64Array(n));
  const labels = new Growing((n) => new Uint8Array(n));
  for (const example of dataset.examples()()) {
    predictions.push(scorer.score(example.features).probability);
    labels.push(example.label as number);
  }
  reportNonNumbers(dataset);
  const p = predictions.view();
  const y = labels.view();
  const e = evaluatePredictions(p, y);
  const result = {
    model: resolve(options.model),
    data: options.data,
    format,
    rows: e.rows,
    positives: e.positives,
    ctr: e.observed_rate,
    entropy_base_rate: binaryEntropy(e.observed_rate),
    logloss: e.logloss,
    auc: e.auc,
    ne: e.normalized_entropy,
    calibration: e.calibration,
    mean_pred: e.mean_prediction,
    reliability: {
      strategy: options.reliability,
      bins: reliabilityDiagram(p, y, { bins: options.bins, strategy: options.reliability }),
    },
    seconds: (performance.now() - started) / 1000,
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

export function defineEvaluateCommand(program: Command): void {
  program
    .command('evaluate')
    .summary("print a model's metrics on a labelled file as JSON")
    .description(
      [
        'Score a labelled data file with a model and print its metrics as JSON on stdout.',
        "Keys: rows, positives, ctr, entropy_base_rate; logloss (predictions clipped to [1e-15, 1 - 1e-15]); auc (tied predictions at their average rank; null with one class); ne (logloss / entropy of the ctr); calibration (mean_pred / ctr); mean_pred; and reliability, the bins of a reliability diagram (per bin: lower, upper, rows, positives, mean_prediction, observed_rate). The definitions are those of the peer benchmark's score_preds.py, number for number.",
      ].join('\n\n'),
    )
    .requiredOption('--model <dir>', 'model folder')
    .requiredOption('--data <file>', 'labelled rows')
    .addOption(formatOption('input format (default: the format the model was trained from, else csv)'))
    .addOption(new Option('--bins <n>', 'reliability diagram bins').argParser(integer).default(10))
    .addOption(
      new Option('--reliability <strategy>', 'bins of equal row counts, or of equal width over [0, 1]')
        .choices(['quantile', 'uniform'])
        .default('quantile'),
    )
    .action(async (parsed: EvaluateCommandOptions) => {
      await evaluate(parsed);
    });
}
