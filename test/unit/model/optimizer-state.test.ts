import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModel, MANIFEST_FILE, type Model, saveModel } from '../../../sagemaker/model/artifact.js';
import {
  OPTIMIZER_MANIFEST_FILE,
  OPTIMIZER_STATE_FILE,
  readOptimizerState,
} from '../../../sagemaker/model/optimizer-state.js';
import { packModel, unpackModel } from '../../../sagemaker/model/pack.js';
import { createScorer } from '../../../sagemaker/model/scorer.js';
import { trainModel } from '../../../sagemaker/model/train.js';
import { loadWarmStart } from '../../../sagemaker/model/warm-start.js';
import { simulatedExamples } from '../../../sagemaker/simulate.js';
import { tempDir } from './helpers.js';

const WORLD = { seed: 5 };
const rows = () => simulatedExamples(WORLD, 0, 5_000);
const probe = [...simulatedExamples(WORLD, 5_000, 6_000)];
const CREATED = new Date('2026-11-01T00:00:00Z');

async function trained(): Promise<Model> {
  return trainModel(rows, { bits: 16, maxPasses: 2, createdAt: CREATED, factorMinCount: 200 });
}

function scores(model: Model): number[] {
  const scorer = createScorer(model);
  return probe.map((e) => scorer.score(e.features).logit);
}

describe('the optimizer state beside an artifact', () => {
  it('is written beside the artifact, leaves model.json as it was, and the loaded model scores the same', async () => {
    // Prepare
    const model = await trained();
    const [withState, without] = [await tempDir(), await tempDir()];

    // Act
    await saveModel(withState, model);
    await saveModel(without, { ...model, optimizer: null });

    // Assess
    expect((await readdir(withState)).sort()).toEqual(
      ['counts.bin', 'factors.bin', MANIFEST_FILE, OPTIMIZER_STATE_FILE, OPTIMIZER_MANIFEST_FILE, 'weights.bin'].sort(),
    );
    expect(await readdir(without)).not.toContain(OPTIMIZER_MANIFEST_FILE);
    expect(await readFile(join(withState, MANIFEST_FILE), 'utf8')).toBe(
      await readFile(join(without, MANIFEST_FILE), 'utf8'),
    );
    const [a, b] = [await loadModel(withState), await loadModel(without)];
    expect(scores(a)).toEqual(scores(b));
    expect(scores(a)).toEqual(scores(model));
    // The cost: 12 bytes (z, n, accumulator) per slot with a count.
    const trainedSlots = model.counts!.filter((c) => c !== 0).length;
    expect((await stat(join(withState, OPTIMIZER_STATE_FILE))).size).toBe(12 * trainedSlots);
  });

  it('reads back what was saved, and travels in the packed artifact', async () => {
    // Prepare
    const model = await trained();
    const dir = await tempDir();
    await saveModel(dir, model);
    const unpacked = join(await tempDir(), 'unpacked');

    // Act
    await unpackModel(await packModel(dir), unpacked);
    const warm = await loadWarmStart(unpacked);

    // Assess
    expect(warm.unavailable).toBeUndefined();
    const state = warm.model!.optimizer!;
    const original = model.optimizer!;
    expect(state.bias_n).toBe(original.bias_n);
    expect(state.ftrl).toEqual(original.ftrl);
    const differ = (x: Float32Array, y: Float32Array) => x.findIndex((v, i) => v !== y[i]);
    expect(differ(state.z, original.z)).toBe(-1);
    expect(differ(state.n, original.n)).toBe(-1);
    expect(differ(state.g, original.g)).toBe(-1);
    expect(original.n.some((v) => v > 0)).toBe(true);
  });

  it('is removed when a model without state is saved over a folder that had one', async () => {
    // Prepare
    const dir = await tempDir();
    const model = await trained();
    await saveModel(dir, model);

    // Act
    await saveModel(dir, await loadModel(dir));

    // Assess
    expect(await readdir(dir)).not.toContain(OPTIMIZER_MANIFEST_FILE);
    expect(await readdir(dir)).not.toContain(OPTIMIZER_STATE_FILE);
  });

  it('is refused, with the reason, when its bytes are corrupt', async () => {
    // Prepare
    const dir = await tempDir();
    const model = await trained();
    const manifest = await saveModel(dir, model);
    const bytes = await readFile(join(dir, OPTIMIZER_STATE_FILE));
    bytes[0]! ^= 0xff;
    await writeFile(join(dir, OPTIMIZER_STATE_FILE), bytes);

    // Act
    const read = await readOptimizerState(dir, model.counts!, manifest.weights.sha256);

    // Assess
    expect(read).toEqual({ unavailable: `its ${OPTIMIZER_STATE_FILE} fails its sha256 check` });
    // The model itself still loads and scores: the scorer never reads the state.
    expect(scores(await loadModel(dir))).toEqual(scores(model));
  });
});
