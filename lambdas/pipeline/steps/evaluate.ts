/**
 * Step 3 of the retraining pipeline (docs/retraining.md): the candidate and the champion scored
 * on the same time-later holdout with the metrics code every HoldoutEvaluator uses
 * (lambdas/adapters/shared/holdout-metrics.ts), so the numbers match what `PUT /model/activate`
 * computes. Without a champion, only the candidate is scored.
 *
 * A model is its folder (`adclick retrain`) or the model.tar.gz a SageMaker training job writes,
 * alone or in the folder a processing input downloads it to (the pipeline's Evaluate step): an
 * archive is unpacked, with the checks every artifact upload gets, into a temporary folder.
 *
 * CLI: `tsx lambdas/pipeline/steps/evaluate.ts --holdout FILE --candidate DIR|TAR.GZ
 * [--champion DIR|TAR.GZ] [--out evaluation.json]`.
 */
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { loadScorer } from '../../../sagemaker/index.js';
import { modelFolder } from '../../../sagemaker/model/model-location.js';
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
  const models = options.championDir ? [options.candidateDir, options.championDir] : [options.candidateDir];
  const work = await mkdtemp(join(tmpdir(), 'adclick-evaluate-'));
  let input: ReturnType<typeof createReadStream> | undefined;
  try {
    const dirs = await Promise.all(models.map((path, i) => modelFolder(path, join(work, String(i)))));
    const scorers = await Promise.all(dirs.map((dir) => loadScorer(dir)));
    input = createReadStream(options.holdoutFile);
    const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
    const evaluated = await scoreHoldout(lines, scorers, { source: options.holdoutFile });
    if (!evaluated) throw new RetrainError(`the holdout ${options.holdoutFile} holds no rows`);
    const [candidate, champion] = evaluated.results;
    return { holdout: evaluated.holdout, candidate: candidate!, champion: champion ?? null };
  } finally {
    input?.destroy();
    await rm(work, { recursive: true, force: true });
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
    throw new Error('usage: evaluate --holdout FILE --candidate DIR|TAR.GZ [--champion DIR|TAR.GZ] [--out FILE]');
  }
  const evaluation = await evaluateStep({
    holdoutFile: values.holdout,
    candidateDir: values.candidate,
    championDir: values.champion ?? null,
  });
  const text = `${JSON.stringify(evaluation, null, 2)}\n`;
  if (values.out) {
    // The pipeline writes into an output folder SageMaker created empty; a sub-folder may not exist.
    await mkdir(dirname(values.out), { recursive: true });
    await writeFile(values.out, text);
  }
  process.stdout.write(text);
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  main(process.argv.slice(2)).catch((err: Error) => {
    process.stderr.write(`evaluate: ${err.message}\n`);
    process.exit(1);
  });
}
