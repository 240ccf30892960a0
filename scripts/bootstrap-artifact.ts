/**
 * The model endpoint's first artifact, built at `cdk synth` (lib/constructs/ml/bootstrap-artifact.ts
 * runs this): the bootstrap model `npm start` trains at first start (sagemaker/bootstrap.ts), on
 * simulated traffic with a fixed seed, packed as the model.tar.gz SageMaker unpacks into
 * /opt/ml/model. The endpoint then serves from its first deploy, before any real traffic.
 *
 * Usage: `tsx scripts/bootstrap-artifact.ts OUT_DIR` writes OUT_DIR/model.tar.gz.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packModel, trainBootstrapModel } from '../sagemaker/index.js';

async function main(out: string | undefined): Promise<void> {
  if (!out) throw new Error('usage: bootstrap-artifact.ts OUT_DIR');
  const work = await mkdtemp(join(tmpdir(), 'adclick-bootstrap-'));
  try {
    const { metrics } = await trainBootstrapModel(join(work, 'model'));
    await writeFile(join(out, 'model.tar.gz'), await packModel(join(work, 'model')));
    process.stderr.write(`bootstrap model: holdout log loss ${metrics.logloss.toFixed(5)} (${metrics.seconds} s)\n`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

main(process.argv[2]).catch((err: Error) => {
  process.stderr.write(`bootstrap-artifact: ${err.message}\n`);
  process.exit(1);
});
