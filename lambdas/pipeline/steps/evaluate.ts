/**
 * Step 3 of the retraining pipeline (docs/retraining.md): the candidate and the champion scored
 * on the same time-later holdout with the metrics code every HoldoutEvaluator uses
 * (lambdas/adapters/shared/holdout-metrics.ts), so the numbers match what `PUT /model/activate`
 * computes. Without a champion, only the candidate is scored.
 *
 * CLI: `tsx lambdas/pipeline/steps/evaluate.ts --holdout FILE --candidate DIR [--champion DIR]
 * [--out evaluation.json]`.
 */
import { createReadStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { loadScorer } from '../../../sagemaker/index.js';
import { type HoldoutResult, scoreHoldout } from '../../adapters/shared/holdout-metrics.js';
import { RetrainError } from '../retrain-windows.js';

export interface Evaluation {
  /** What the models were scored on (e.g. "41210 rows of .../holdout.jsonl"). */
  readonly holdout: string;
  readonly candidate: HoldoutResult;
  readonly champion: HoldoutResult | null;
}

export async function evaluateStep(options: {
  readonly holdoutFile: string;
  readonly candidateDir: string;
  readonly championDir: string | null;
}): Promise<Evaluation> {
  const dirs = options.championDir ? [options.candidateDir, options.championDir] : [options.candidateDir];
  const scorers = await Promise.all(dirs.map((dir) => loadScorer(dir)));
  const input = createReadStream(options.holdoutFile);
  try {
    const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
    const evaluated = await scoreHoldout(lines, scorers, { source: options.holdoutFile });
    if (!evaluated) throw new RetrainError(`the holdout ${options.holdoutFile} holds no rows`);
    const [candidate, champion] = evaluated.results;
    return { holdout: evaluated.holdout, candidate: candidate!, champion: champion ?? null };
  } finally {
    input.destroy();
  }
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      holdout: { type: 'string' },
      candidate: { type: 'string' },
      champion: { type: 'string' },
      out: { type: 'string' },
    },
    strict: true,
  });
  if (!values.holdout || !values.candidate) {
    throw new Error('usage: evaluate --holdout FILE --candidate DIR [--champion DIR] [--out FILE]');
  }
  const evaluation = await evaluateStep({
    holdoutFile: values.holdout,
    candidateDir: values.candidate,
    championDir: values.champion ?? null,
  });
  const text = `${JSON.stringify(evaluation, null, 2)}\n`;
  if (values.out) await writeFile(values.out, text);
  process.stdout.write(text);
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  main(process.argv.slice(2)).catch((err: Error) => {
    process.stderr.write(`evaluate: ${err.message}\n`);
    process.exit(1);
  });
}
