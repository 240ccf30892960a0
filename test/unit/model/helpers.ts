import { mkdtemp, rm } from 'node:fs/promises';
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
}

/** A model with random weights (normal, sd 0.5), for artifact and scorer tests. */
export function randomModel(options: RandomModelOptions = {}): Model {
  const bits = options.bits ?? 10;
  const rng = createRandom(options.seed ?? 1);
  const weights = new Float32Array(2 ** bits);
  for (let i = 0; i < weights.length; i++) weights[i] = 0.5 * rng.normal();
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
