/**
 * The model artifact: a folder with `model.json` (the manifest, validated on load) and
 * `weights.bin` (little-endian float32, one weight per hashed slot).
 *
 * Loading refuses anything corrupt, truncated or mismatched with an InvalidModelError that says
 * what is wrong; a refused artifact is never half-loaded.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { HASH_NAME, MAX_BITS, MIN_BITS } from './encoding.js';

export const FORMAT_VERSION = 1;
export const ALGORITHM = 'logreg-hashed';
export const MANIFEST_FILE = 'model.json';
export const WEIGHTS_FILE = 'weights.bin';
/** model.json larger than this is refused before it is parsed. */
export const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;

/** The artifact cannot be used: corrupt, truncated, mismatched, unsafe or not an artifact at all. */
export class InvalidModelError extends Error {
  override readonly name = 'InvalidModelError';
}

const Scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const IsoTime = z.iso.datetime({ offset: true });

export const ModelManifestSchema = z
  .object({
    format_version: z.literal(FORMAT_VERSION),
    algorithm: z.literal(ALGORITHM),
    hashing: z
      .object({
        bits: z.number().int().min(MIN_BITS).max(MAX_BITS),
        hash: z.literal(HASH_NAME),
        seed: z.number().int().min(0).max(0xffffffff),
      })
      .strict(),
    fields: z.array(z.string()).refine((f) => new Set(f).size === f.length, 'field names must be unique'),
    hyperparameters: z.record(z.string(), Scalar),
    training_window: z.object({ from: IsoTime.nullable(), to: IsoTime.nullable() }).strict().nullable(),
    metrics: z.record(z.string(), z.unknown()),
    negative_sampling_rate: z.number().gt(0, 'must be in (0, 1]').max(1, 'must be in (0, 1] (1 = no down-sampling)'),
    weights: z
      .object({
        file: z.literal(WEIGHTS_FILE),
        dtype: z.literal('float32'),
        length: z.number().int().positive(),
        sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits'),
      })
      .strict(),
    bias: z.number(),
    created_at: IsoTime,
    metadata: z.record(z.string(), Scalar).default({}),
  })
  .strict()
  .superRefine((m, ctx) => {
    if (m.weights.length !== 2 ** m.hashing.bits) {
      ctx.addIssue({
        code: 'custom',
        path: ['weights', 'length'],
        message: `must be 2^hashing.bits = ${2 ** m.hashing.bits}, got ${m.weights.length}`,
      });
    }
  });

/** The parsed model.json. */
export type ModelManifest = z.output<typeof ModelManifestSchema>;
export type WeightsDescriptor = ModelManifest['weights'];

/** A model in memory: the manifest's fields, with the weights themselves instead of their descriptor. */
export interface Model extends Omit<ModelManifest, 'weights'> {
  readonly weights: Float32Array;
}

/** A model read from disk, with its manifest exactly as parsed. */
export interface LoadedModel extends Model {
  readonly manifest: ModelManifest;
}

const LITTLE_ENDIAN_HOST = endianness() === 'LE';

/** The weights as little-endian bytes (a view, no copy, on little-endian hosts). */
function weightBytes(weights: Float32Array): Buffer {
  if (LITTLE_ENDIAN_HOST) return Buffer.from(weights.buffer, weights.byteOffset, weights.byteLength);
  const out = Buffer.allocUnsafe(weights.byteLength);
  for (let i = 0; i < weights.length; i++) out.writeFloatLE(weights[i]!, i * 4);
  return out;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function firstNonFinite(weights: Float32Array): number {
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i]!;
    if (w - w !== 0) return i;
  }
  return -1;
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 10)
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}

/** The manifest that describes `model` (computes the weights' sha256). */
export function manifestOf(model: Model): ModelManifest {
  // A LoadedModel also carries its parsed manifest; it is not part of the header.
  const { weights, manifest: _parsed, ...header } = model as Model & { manifest?: unknown };
  const candidate = {
    ...header,
    format_version: FORMAT_VERSION,
    algorithm: ALGORITHM,
    weights: {
      file: WEIGHTS_FILE,
      dtype: 'float32',
      length: weights.length,
      sha256: sha256(weightBytes(weights)),
    },
  };
  const parsed = ModelManifestSchema.safeParse(candidate);
  if (!parsed.success) throw new InvalidModelError(`model is not valid: ${describeIssues(parsed.error)}`);
  const bad = firstNonFinite(weights);
  if (bad >= 0) throw new InvalidModelError(`model is not valid: weight ${bad} is ${weights[bad]}`);
  return parsed.data;
}

async function writeAtomically(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${Date.now().toString(36)}`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}

/**
 * Writes the artifact folder (created if needed): weights.bin first, model.json last, each
 * through a rename, so a reader never sees a manifest whose weights are not complete.
 */
export async function saveModel(dir: string, model: Model): Promise<ModelManifest> {
  const manifest = manifestOf(model);
  await mkdir(dir, { recursive: true });
  await writeAtomically(join(dir, WEIGHTS_FILE), weightBytes(model.weights));
  await writeAtomically(join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | null)?.code === 'ENOENT';
}

/** Reads and validates model.json alone (cheap: does not touch the weights). */
export async function readManifest(dir: string): Promise<ModelManifest> {
  const path = join(dir, MANIFEST_FILE);
  let text: string;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new InvalidModelError(`${MANIFEST_FILE} in ${dir} is not a regular file`);
    if (info.size > MAX_MANIFEST_BYTES) {
      throw new InvalidModelError(
        `${MANIFEST_FILE} is ${info.size} bytes, more than the ${MAX_MANIFEST_BYTES} allowed`,
      );
    }
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (isNotFound(error)) throw new InvalidModelError(`${MANIFEST_FILE} is missing in ${dir}`);
    throw error;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new InvalidModelError(`${MANIFEST_FILE} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new InvalidModelError(`${MANIFEST_FILE} must hold a JSON object`);
  }
  const version = (raw as Record<string, unknown>).format_version;
  if (version !== FORMAT_VERSION) {
    throw new InvalidModelError(
      `${MANIFEST_FILE} has format_version ${JSON.stringify(version)}; this reader supports ${FORMAT_VERSION}`,
    );
  }
  const algorithm = (raw as Record<string, unknown>).algorithm;
  if (algorithm !== ALGORITHM) {
    throw new InvalidModelError(
      `${MANIFEST_FILE} has algorithm ${JSON.stringify(algorithm)}; this reader supports ${JSON.stringify(ALGORITHM)}`,
    );
  }
  const parsed = ModelManifestSchema.safeParse(raw);
  if (!parsed.success) {
    throw new InvalidModelError(`${MANIFEST_FILE} does not match the schema: ${describeIssues(parsed.error)}`);
  }
  return parsed.data;
}

/** Loads and verifies an artifact folder; throws InvalidModelError when anything is wrong. */
export async function loadModel(dir: string): Promise<LoadedModel> {
  const manifest = await readManifest(dir);
  const { length, sha256: expected } = manifest.weights;
  const path = join(dir, WEIGHTS_FILE);
  let bytes: Buffer;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new InvalidModelError(`${WEIGHTS_FILE} in ${dir} is not a regular file`);
    if (info.size !== length * 4) {
      throw new InvalidModelError(
        `${WEIGHTS_FILE} holds ${info.size} bytes but the manifest says ${length} float32 weights (${length * 4} bytes): truncated or mismatched`,
      );
    }
    bytes = await readFile(path);
  } catch (error) {
    if (isNotFound(error)) throw new InvalidModelError(`${WEIGHTS_FILE} is missing in ${dir}`);
    throw error;
  }
  if (bytes.length !== length * 4) {
    throw new InvalidModelError(`${WEIGHTS_FILE} changed while it was read (${bytes.length} bytes)`);
  }
  const actual = sha256(bytes);
  if (actual !== expected) {
    throw new InvalidModelError(
      `${WEIGHTS_FILE} sha256 is ${actual}, the manifest says ${expected}: corrupt or mismatched`,
    );
  }
  let weights: Float32Array;
  if (LITTLE_ENDIAN_HOST && bytes.byteOffset % 4 === 0) {
    weights = new Float32Array(bytes.buffer, bytes.byteOffset, length);
  } else {
    weights = new Float32Array(length);
    for (let i = 0; i < length; i++) weights[i] = bytes.readFloatLE(i * 4);
  }
  const bad = firstNonFinite(weights);
  if (bad >= 0) throw new InvalidModelError(`${WEIGHTS_FILE} weight ${bad} is ${weights[bad]}`);
  const { weights: _descriptor, ...header } = manifest;
  return { ...header, weights, manifest };
}
