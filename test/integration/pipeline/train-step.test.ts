import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../../sagemaker/model/artifact.js';
import { trainStep, writeHyperparameters } from '../../../sagemaker/pipeline/train-step.js';
import { simulatedExamples } from '../../../sagemaker/simulate.js';

const WORLD = { seed: 21 };
const COLUMNS = ['device_type', 'location', 'ad_id', 'campaign_id', 'advertiser_id', 'category', 'site_id', 'position'];

/** Rows [from, to) of the simulated world as the training step's csv. */
async function writeCsv(file: string, from: number, to: number): Promise<void> {
  const lines = [['click', ...COLUMNS].join(',')];
  for (const e of simulatedExamples(WORLD, from, to)) {
    const f = e.features as Record<string, unknown>;
    lines.push([e.label, ...COLUMNS.map((c) => String(f[c] ?? ''))].join(','));
  }
  await writeFile(file, `${lines.join('\n')}\n`);
}

describe('the training step', () => {
  let work: string;
  let championDir: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'adclick-train-step-'));
    await writeCsv(join(work, 'first.csv'), 0, 20_000);
    await writeCsv(join(work, 'next.csv'), 20_000, 30_000);
    await writeHyperparameters(join(work, 'hp.json'), { categorical: 'position' });
    championDir = join(work, 'champion');
    await trainStep({
      data: join(work, 'first.csv'),
      hyperparametersFile: join(work, 'hp.json'),
      modelDir: championDir,
    });
  }, 60_000);

  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('trains fresh by default and says so', async () => {
    // Act
    const result = await trainStep({
      data: join(work, 'next.csv'),
      hyperparametersFile: join(work, 'hp.json'),
      modelDir: join(work, 'fresh'),
    });

    // Assess
    expect(result.warmStart).toMatchObject({ requested: false, used: false });
  });

  it("warm starts from a model folder, and the saved model's metrics record it", async () => {
    // Prepare
    const lines: string[] = [];

    // Act
    const result = await trainStep({
      data: join(work, 'next.csv'),
      hyperparametersFile: join(work, 'hp.json'),
      modelDir: join(work, 'warm'),
      warmStart: championDir,
      log: (line) => lines.push(line),
    });

    // Assess
    expect(result.warmStart).toMatchObject({ requested: true, used: true, reason: null, source: championDir });
    expect((await loadModel(join(work, 'warm'))).metrics.warm_start).toMatchObject({ used: true });
    expect(lines.join('\n')).toMatch(/warm start from .*champion/);
  });

  it('falls back to fresh, with the reason, when the hyperparameters change the encoding', async () => {
    // Prepare
    await writeHyperparameters(join(work, 'hp-bits.json'), { categorical: 'position', bits: 18 });
    const lines: string[] = [];

    // Act
    const result = await trainStep({
      data: join(work, 'next.csv'),
      hyperparametersFile: join(work, 'hp-bits.json'),
      modelDir: join(work, 'bits'),
      warmStart: championDir,
      log: (line) => lines.push(line),
    });

    // Assess
    expect(result.warmStart).toMatchObject({ requested: true, used: false });
    expect(result.warmStart.reason).toMatch(/hashing bits are 20, the new training's 18/);
    expect(lines.join('\n')).toMatch(/fresh: cannot warm start from .*: its hashing bits are 20/);
  });
});
