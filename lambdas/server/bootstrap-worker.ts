/**
 * Worker thread entry: trains the bootstrap model on simulated traffic and writes the
 * time-later holdout the gate scores it on. workerData: BootstrapJob. Posts `{ result }` or `{ error }`.
 */
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { parentPort, workerData } from 'node:worker_threads';
import { simulatedExamples, trainBootstrapModel } from '../../sagemaker/index.js';
import { HOLDOUT_FILE } from '../adapters/local/holdout-evaluator.js';

export interface BootstrapJob {
  readonly modelDir: string;
  readonly holdoutDir: string;
  readonly rows: number;
  readonly seed: number;
}

export interface BootstrapOutcome {
  readonly dir: string;
  readonly metrics: {
    logloss: number;
    baseline_logloss: number;
    auc: number | null;
    calibration: number | null;
    seconds: number;
  };
}

async function run(job: BootstrapJob): Promise<BootstrapOutcome> {
  const { dir, metrics } = await trainBootstrapModel(job.modelDir, { rows: job.rows, seed: job.seed });
  await mkdir(job.holdoutDir, { recursive: true });
  const out = createWriteStream(join(job.holdoutDir, HOLDOUT_FILE));
  // Large enough that each device segment has hundreds of clicks for the gate to judge.
  const holdoutRows = Math.max(100_000, Math.floor(job.rows / 10));
  for (const e of simulatedExamples({ seed: job.seed }, job.rows, job.rows + holdoutRows)) {
    if (!out.write(`${JSON.stringify({ features: e.features, label: e.label })}\n`)) {
      await new Promise<void>((r) => out.once('drain', () => r()));
    }
  }
  out.end();
  await finished(out);
  const { logloss, baseline_logloss, auc, calibration, seconds } = metrics;
  return { dir, metrics: { logloss, baseline_logloss, auc, calibration, seconds } };
}

run(workerData as BootstrapJob).then(
  (result) => parentPort?.postMessage({ result }),
  (err) => parentPort?.postMessage({ error: err instanceof Error ? err.message : String(err) }),
);
