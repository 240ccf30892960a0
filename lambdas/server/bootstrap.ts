import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packModel } from '../../sagemaker/index.js';
import { spawnWorker } from '../adapters/local/threads.js';
import type { App } from '../core/app.js';
import { GateRefusedError } from '../core/errors.js';
import type { Logger } from '../core/ports.js';
import type { BootstrapJob, BootstrapOutcome } from './bootstrap-worker.js';

const SEED = 1;

function trainInWorker(job: BootstrapJob): Promise<BootstrapOutcome> {
  const worker = spawnWorker(import.meta.url, 'bootstrap-worker', job);
  return new Promise((resolve, reject) => {
    worker.once('message', (m: { result?: BootstrapOutcome; error?: string }) =>
      m.result ? resolve(m.result) : reject(new Error(`bootstrap training failed: ${m.error}`)),
    );
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`bootstrap training worker exited with ${code}`)));
  });
}

/**
 * At first start, with no champion, trains a model on simulated traffic and puts it through
 * the same upload → complete → activate path (and gate) as any model, so /predict answers at
 * once. The holdout it writes is simulated traffic from after the training rows; retraining on
 * real traffic replaces both.
 */
export async function ensureBootstrapModel(app: App, holdoutDir: string, rows: number, logger: Logger): Promise<void> {
  if (await app.deps.models.champion()) return;
  const work = await mkdtemp(join(tmpdir(), 'adclick-bootstrap-'));
  try {
    logger.info('no active model: training the bootstrap model on simulated traffic', { rows });
    // Training allocates hundreds of MB that V8 would keep for the life of the server; in a
    // worker thread they go when the worker does.
    const { dir, metrics } = await trainInWorker({ modelDir: join(work, 'model'), holdoutDir, rows, seed: SEED });

    const version = `bootstrap-sim-${SEED}-${rows}`;
    const existing = await app.deps.models.findByVersion(version);
    const modelId =
      existing?.model_id ??
      (await app.models.startUpload({ version, metadata: { source: 'bootstrap', trained_on: 'simulated data' } }))
        .model_id;
    const record = await app.models.get(modelId);
    if (record.status === 'uploading') {
      await app.models.receiveArtifact(modelId, await packModel(dir));
      await app.models.completeUpload(modelId);
    }
    try {
      await app.models.activate(modelId, false);
    } catch (err) {
      if (!(err instanceof GateRefusedError)) throw err;
      // With no champion at all, a refused bootstrap would leave /predict without a model:
      // serve it anyway, and keep the gate's report on the model for anyone who looks.
      logger.warn('the gate refused the bootstrap model; activating it because there is no other', {
        reasons: (err.extensions.gate as { reasons?: string[] } | undefined)?.reasons,
      });
      await app.models.activate(modelId, true);
    }
    logger.info('bootstrap model active', {
      model_id: modelId,
      holdout_logloss: metrics.logloss,
      baseline_logloss: metrics.baseline_logloss,
      auc: metrics.auc,
      calibration: metrics.calibration,
      seconds: metrics.seconds,
    });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
