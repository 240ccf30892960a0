import { readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  InvalidModelError,
  loadModel,
  manifestOf,
  readManifest,
  saveModel,
} from '../../../sagemaker/model/artifact.js';
import { randomModel, tempDir, writeVersion1Artifact } from './helpers.js';

/** Saves a random model and returns its folder. */
async function savedModel(): Promise<string> {
  const dir = await tempDir();
  await saveModel(dir, randomModel({ bits: 10 }));
  return dir;
}

async function editManifest(dir: string, edit: (m: Record<string, unknown>) => void): Promise<void> {
  const path = join(dir, 'model.json');
  const manifest = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  edit(manifest);
  await writeFile(path, JSON.stringify(manifest));
}

/** The error loadModel rejects with (fails the test when it loads). */
async function loadError(dir: string): Promise<InvalidModelError> {
  const error = await loadModel(dir).then(
    () => expect.unreachable('the model should have been refused'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InvalidModelError);
  return error as InvalidModelError;
}

describe('saveModel and loadModel', () => {
  it('round-trips the manifest and every weight bit for bit', async () => {
    // Prepare
    const dir = await tempDir();
    const model = randomModel({ bits: 12, negativeSamplingRate: 0.25 });

    // Act
    const written = await saveModel(dir, model);
    const loaded = await loadModel(dir);

    // Assess
    expect(Buffer.from(loaded.weights.buffer, loaded.weights.byteOffset, loaded.weights.byteLength)).toEqual(
      Buffer.from(model.weights.buffer),
    );
    expect(loaded.manifest).toEqual(written);
    expect(Array.from(loaded.factors)).toEqual(Array.from(model.factors));
    expect(Array.from(loaded.counts!)).toEqual(Array.from(model.counts!));
    expect(loaded).toMatchObject({
      format_version: 2,
      algorithm: 'fm-hashed',
      factor_dim: model.factor_dim,
      min_count: model.min_count,
      training_click_rate: model.training_click_rate,
      hashing: model.hashing,
      fields: model.fields,
      bias: model.bias,
      negative_sampling_rate: 0.25,
      training_window: model.training_window,
      metrics: model.metrics,
      metadata: model.metadata,
      created_at: model.created_at,
    });
    expect(written.weights).toMatchObject({ file: 'weights.bin', dtype: 'float32', length: 4096 });
    expect(written.weights.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('writes exactly model.json, weights.bin, factors.bin and counts.bin, little-endian', async () => {
    // Prepare
    const dir = await tempDir();
    const model = randomModel({ bits: 4 });

    // Act
    await saveModel(dir, model);

    // Assess
    expect((await readdir(dir)).sort()).toEqual(['counts.bin', 'factors.bin', 'model.json', 'weights.bin']);
    const bytes = await readFile(join(dir, 'weights.bin'));
    expect(bytes.length).toBe(16 * 4);
    expect(bytes.readFloatLE(4 * 3)).toBe(model.weights[3]);
  });

  it('reads the manifest alone with readManifest', async () => {
    // Prepare
    const dir = await savedModel();

    // Act
    const manifest = await readManifest(dir);

    // Assess
    expect(manifest.weights.length).toBe(1024);
  });

  it('refuses to save a model whose weights do not fill 2^bits slots', async () => {
    // Prepare
    const dir = await tempDir();
    const model = { ...randomModel({ bits: 10 }), weights: new Float32Array(1000) };

    // Act
    const attempt = saveModel(dir, model);

    // Assess
    await expect(attempt).rejects.toThrow(InvalidModelError);
    await expect(attempt).rejects.toThrow(/weights.length/);
  });

  it('refuses to save a model with a non-finite weight', async () => {
    // Prepare
    const model = randomModel({ bits: 4 });
    model.weights[5] = Number.NaN;

    // Act
    const attempt = () => manifestOf(model);

    // Assess
    expect(attempt).toThrow(/weight 5 is NaN/);
  });
});

describe('loadModel refuses a broken artifact', () => {
  it('with truncated weights', async () => {
    // Prepare
    const dir = await savedModel();
    await truncate(join(dir, 'weights.bin'), 1024 * 4 - 4);

    // Act
    const error = await loadError(dir);

    // Assess
    expect(error.message).toMatch(/weights.bin holds 4092 bytes .* 1024 float32 .* truncated/);
  });

  it('with weights whose sha256 does not match', async () => {
    // Prepare
    const dir = await savedModel();
    const path = join(dir, 'weights.bin');
    const bytes = await readFile(path);
    bytes[100] = bytes[100]! ^ 0x01;
    await writeFile(path, bytes);

    // Act
    const error = await loadError(dir);

    // Assess
    expect(error.message).toMatch(/sha256 .* corrupt or mismatched/);
  });

  it('with a model.json that is not JSON', async () => {
    // Prepare
    const dir = await savedModel();
    await writeFile(join(dir, 'model.json'), '{"format_version": 1,');

    // Act
    const error = await loadError(dir);

    // Assess
    expect(error.message).toMatch(/model.json is not valid JSON/);
  });

  it('with another format_version', async () => {
    // Prepare
    const dir = await savedModel();
    await editManifest(dir, (m) => {
      m.format_version = 4;
    });

    // Act
    const error = await loadError(dir);

    // Assess
    expect(error.message).toMatch(/format_version 4; this reader supports 1 to 3/);
  });

  it('with another algorithm', async () => {
    // Prepare
    const dir = await savedModel();
    await editManifest(dir, (m) => {
      m.algorithm = 'logreg-hashed';
    });

    // Act
    const error = await loadError(dir);

    // Assess
    expect(error.message).toMatch(/algorithm "logreg-hashed"; format_version 2 is "fm-hashed"/);
  });

  it('with a weights length that does not match the hash bits', async () => {
    // Prepare
    const dir = await savedModel();
    await editManifest(dir, (m) => {
      (m.hashing as { bits: number }).bits = 11;
    });

    // Act
    const error = await loadError(dir);

    // Assess
    expect(error.message).toMatch(/weights.length: must be 2\^hashing.bits = 2048, got 1024/);
  });

  it('with a manifest that breaks the schema', async () => {
    // Prepare
    const dir = await savedModel();
    await editManifest(dir, (m) => {
      m.negative_sampling_rate = 0;
      m.surprise = true;
    });

    // Act
    const error = await loadError(dir);

    // Assess
    expect(error.message).toMatch(/negative_sampling_rate/);
    expect(error.message).toMatch(/surprise/);
  });

  it('with a missing weights file', async () => {
    // Prepare
    const dir = await savedModel();
    await rm(join(dir, 'weights.bin'));

    // Act
    const error = await loadError(dir);

    // Assess
    expect(error.message).toMatch(/weights.bin is missing/);
  });

  it('with a missing model.json', async () => {
    // Prepare
    const dir = await savedModel();
    await rm(join(dir, 'model.json'));

    // Act
    const error = await loadError(dir);

    // Assess
    expect(error.message).toMatch(/model.json is missing/);
  });

  it('with a NaN weight, even when the sha256 matches', async () => {
    // Prepare
    const dir = await savedModel();
    const path = join(dir, 'weights.bin');
    const bytes = await readFile(path);
    bytes.writeFloatLE(Number.NaN, 4 * 3);
    await writeFile(path, bytes);
    const { createHash } = await import('node:crypto');
    await editManifest(dir, (m) => {
      (m.weights as { sha256: string }).sha256 = createHash('sha256').update(bytes).digest('hex');
    });

    // Act
    const error = await loadError(dir);

    // Assess
    expect(error.message).toMatch(/weights.bin value 3 is NaN/);
  });

  it('names its error class InvalidModelError', async () => {
    // Prepare
    const dir = await tempDir();

    // Act
    const error = await loadError(dir);

    // Assess
    expect(error.name).toBe('InvalidModelError');
    expect(error).toBeInstanceOf(Error);
  });
});

describe('loadModel with format_version 2 arrays', () => {
  it('refuses a truncated factors.bin', async () => {
    // Prepare
    const dir = await savedModel();
    await truncate(join(dir, 'factors.bin'), 100);

    // Act
    const error = await loadError(dir);

    // Assess
    expect(error.message).toMatch(/factors\.bin holds 100 bytes but the manifest says \d+ float32 values/);
  });

  it('refuses a counts.bin whose sha256 does not match', async () => {
    // Prepare
    const dir = await savedModel();
    const path = join(dir, 'counts.bin');
    const bytes = await readFile(path);
    bytes[7] = (bytes[7]! + 1) % 256;
    await writeFile(path, bytes);

    // Act
    const error = await loadError(dir);

    // Assess
    expect(error.message).toMatch(/counts\.bin sha256 is [0-9a-f]{64}, the manifest says/);
  });

  it('refuses factors that do not fill factor_dim values for each slot with a count', async () => {
    // Prepare
    const dir = await savedModel();
    await editManifest(dir, (m) => {
      m.factor_dim = 2;
    });

    // Act
    const error = await loadError(dir);

    // Assess
    expect(error.message).toMatch(
      /factors\.bin holds \d+ values but counts\.bin has \d+ slots with a non-zero count × factor_dim 2/,
    );
  });

  it('refuses a factors length that is not a multiple of factor_dim', async () => {
    // Prepare
    const dir = await savedModel();
    await editManifest(dir, (m) => {
      m.factor_dim = 5;
    });

    // Act
    const error = await loadError(dir);

    // Assess
    expect(error.message).toMatch(/factors\.length: must be a multiple of factor_dim = 5/);
  });

  it('stores factors only for the slots with a non-zero count and restores the rest as 0', async () => {
    // Prepare
    const dir = await tempDir();
    const model = randomModel({ bits: 8, factorDim: 3 });
    const withCount = model.counts!.reduce((n, c) => n + (c === 0 ? 0 : 1), 0);

    // Act
    const written = await saveModel(dir, model);
    const loaded = await loadModel(dir);

    // Assess
    expect(withCount).toBeLessThan(256);
    expect(written.factors.length).toBe(withCount * 3);
    expect(Array.from(loaded.factors)).toEqual(Array.from(model.factors));
  });

  it('refuses a min_count without counts to apply it to', async () => {
    // Prepare
    const dir = await tempDir();
    await saveModel(dir, randomModel({ bits: 6, counts: false }));
    await editManifest(dir, (m) => {
      m.min_count = 2;
    });

    // Act
    const error = await loadError(dir);

    // Assess
    expect(error.message).toMatch(/min_count: must be 0 when the model has no counts/);
  });

  it('refuses a missing factors.bin', async () => {
    // Prepare
    const dir = await savedModel();
    await rm(join(dir, 'factors.bin'));

    // Act
    const error = await loadError(dir);

    // Assess
    expect(error.message).toMatch(/factors\.bin is missing/);
  });
});

describe('loadModel with a format_version 1 artifact', () => {
  it('loads it as a model without factors or counts', async () => {
    // Prepare
    const dir = await tempDir();
    const weights = Float32Array.from({ length: 64 }, (_, i) => (i % 7) / 10 - 0.3);
    await writeVersion1Artifact(dir, { bits: 6, fields: ['device_type', 'ad_id'], weights, bias: -3.5 });

    // Act
    const model = await loadModel(dir);

    // Assess
    expect(model).toMatchObject({
      format_version: 1,
      algorithm: 'logreg-hashed',
      factor_dim: 0,
      counts: null,
      min_count: 0,
      training_click_rate: null,
      bias: -3.5,
    });
    expect(Array.from(model.weights)).toEqual(Array.from(weights));
    expect(model.factors).toHaveLength(0);
  });

  it('refuses a version 1 artifact whose weights.bin is truncated', async () => {
    // Prepare
    const dir = await tempDir();
    await writeVersion1Artifact(dir, { bits: 6, fields: ['a'], weights: new Float32Array(64), bias: 0 });
    await truncate(join(dir, 'weights.bin'), 12);

    // Act
    const error = await loadError(dir);

    // Assess
    expect(error.message).toMatch(/weights\.bin holds 12 bytes but the manifest says 64 float32 values/);
  });

  it('re-saves a loaded version 1 model as version 2 that scores the same', async () => {
    // Prepare
    const dir = await tempDir();
    const weights = Float32Array.from({ length: 64 }, (_, i) => Math.sin(i));
    await writeVersion1Artifact(dir, { bits: 6, fields: ['device_type', 'ad_id'], weights, bias: -2 });
    const v1 = await loadModel(dir);
    const out = await tempDir();

    // Act
    const written = await saveModel(out, v1);
    const v2 = await loadModel(out);

    // Assess
    expect(written).toMatchObject({ format_version: 2, factor_dim: 0, counts: null, min_count: 0 });
    expect(Array.from(v2.weights)).toEqual(Array.from(weights));
    expect(v2.bias).toBe(-2);
  });
});
