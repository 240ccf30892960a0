import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach } from 'vitest';
import { ALGORITHM, FORMAT_VERSION, type Model } from '../../../sagemaker/model/artifact.js';
import { HASH_NAME } from '../../../sagemaker/model/encoding.js';
import { createRandom } from '../../../sagemaker/model/prng.js';

const dirs: string[] = [];

/** A fresh temporary folder, removed after the test. */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'adclick-model-test-'));
  dirs.push(dir);
  return dir;
}

afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

export interface RandomModelOptions {
  bits?: number;
  fields?: string[];
  seed?: number;
  negativeSamplingRate?: number;
  hashSeed?: number;
  /** Latent factors per slot (default 4; 0 = a plain logistic regression). */
  factorDim?: number;
  /** Slot counts are drawn in [0, 20); null = no counts. */
  counts?: boolean;
  minCount?: number;
}

/** A model with random weights (normal, sd 0.5), for artifact and scorer tests. */
export function randomModel(options: RandomModelOptions = {}): Model {
  const bits = options.bits ?? 10;
  const rng = createRandom(options.seed ?? 1);
  const weights = new Float32Array(2 ** bits);
  for (let i = 0; i < weights.length; i++) weights[i] = 0.5 * rng.normal();
  const factorDim = options.factorDim ?? 4;
  const factors = new Float32Array(weights.length * factorDim);
  for (let i = 0; i < factors.length; i++) factors[i] = 0.3 * rng.normal();
  const withCounts = options.counts ?? true;
  const counts = withCounts ? new Uint16Array(weights.length) : null;
  if (counts) {
    for (let i = 0; i < counts.length; i++) counts[i] = rng.int(20);
    // No training row held a slot with a count of 0, so it was never trained: its factors are 0.
    for (let i = 0; i < counts.length; i++) if (counts[i] === 0) factors.fill(0, i * factorDim, (i + 1) * factorDim);
  }
  return {
    format_version: FORMAT_VERSION,
    algorithm: ALGORITHM,
    hashing: { bits, hash: HASH_NAME, seed: options.hashSeed ?? 0 },
    fields: options.fields ?? ['device_type', 'site_id', 'position', 'ad_id', 'user_ctr'],
    hyperparameters: { optimizer: 'test' },
    training_window: { from: '2026-01-01T00:00:00Z', to: '2026-01-02T00:00:00Z' },
    metrics: { logloss: 0.1 },
    negative_sampling_rate: options.negativeSamplingRate ?? 1,
    weights,
    factor_dim: factorDim,
    factors,
    counts,
    min_count: withCounts ? (options.minCount ?? 0) : 0,
    training_click_rate: 0.02,
    bias: -4 + rng.normal(),
    created_at: '2026-01-02T03:04:05.000Z',
    metadata: { note: 'random test model' },
  };
}

export interface RawTarEntry {
  name: string;
  /** '0' file, '1' hard link, '2' symlink, '3' char device, '5' directory. */
  type?: '0' | '1' | '2' | '3' | '5';
  content?: Buffer | string;
  linkname?: string;
  /** Overrides the size written in the header. */
  size?: number;
}

function writeString(block: Buffer, offset: number, length: number, value: string): void {
  block.write(value.slice(0, length), offset, length, 'utf8');
}

function writeOctal(block: Buffer, offset: number, length: number, value: number): void {
  writeString(block, offset, length, `${value.toString(8).padStart(length - 1, '0')}\0`);
}

/**
 * A tar archive built byte by byte (ustar headers), so that tests can make entries no honest
 * tar writer would: '../evil', absolute paths, links, devices.
 */
export function rawTar(entries: readonly RawTarEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const content = Buffer.from(entry.content ?? '');
    const header = Buffer.alloc(512);
    writeString(header, 0, 100, entry.name);
    writeOctal(header, 100, 8, 0o644);
    writeOctal(header, 108, 8, 0);
    writeOctal(header, 116, 8, 0);
    writeOctal(header, 124, 12, entry.size ?? content.length);
    writeOctal(header, 136, 12, 1_700_000_000);
    header.fill(0x20, 148, 156);
    writeString(header, 156, 1, entry.type ?? '0');
    writeString(header, 157, 100, entry.linkname ?? '');
    writeString(header, 257, 6, 'ustar\0');
    writeString(header, 263, 2, '00');
    let sum = 0;
    for (const byte of header) sum += byte;
    writeString(header, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
    blocks.push(header, content, Buffer.alloc((512 - (content.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

export function rawTarGz(entries: readonly RawTarEntry[]): Buffer {
  return gzipSync(rawTar(entries));
}

/**
 * Writes a format_version 1 artifact (logistic regression, weights.bin only) exactly as the first
 * version of saveModel did, so that tests can check such artifacts keep loading.
 */
export async function writeVersion1Artifact(
  dir: string,
  model: { bits: number; fields: string[]; weights: Float32Array; bias: number; negativeSamplingRate?: number },
): Promise<void> {
  await mkdir(dir, { recursive: true });
  const bytes = Buffer.from(model.weights.buffer, model.weights.byteOffset, model.weights.byteLength);
  await writeFile(join(dir, 'weights.bin'), bytes);
  const manifest = {
    format_version: 1,
    algorithm: 'logreg-hashed',
    hashing: { bits: model.bits, hash: 'fnv1a32-fmix32', seed: 0 },
    fields: model.fields,
    hyperparameters: { optimizer: 'ftrl-proximal', alpha: 0.1 },
    training_window: null,
    metrics: { logloss: 0.1 },
    negative_sampling_rate: model.negativeSamplingRate ?? 1,
    weights: {
      file: 'weights.bin',
      dtype: 'float32',
      length: model.weights.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
    },
    bias: model.bias,
    created_at: '2026-01-02T03:04:05.000Z',
    metadata: {},
  };
  await writeFile(join(dir, 'model.json'), JSON.stringify(manifest, null, 2));
}
