/**
 * The model artifact: a folder with `model.json` (the manifest, validated on load) and the binary
 * arrays it describes, each little-endian with its own length and sha256:
 *
 * - format_version 2 (`fm-hashed`, written by this version): `weights.bin` (float32, one linear
 *   weight per hashed slot), `counts.bin` (uint16, how many training rows held each slot,
 *   saturating at 65535) and `factors.bin` (float32, `factor_dim` latent factors for each slot
 *   whose count is not 0, in slot order: a slot no training row held has zero factors, so they
 *   are not stored, and the file, the load time and the memory of a small model stay small).
 * - format_version 3 (`fm-hashed`, written for a model with crosses): version 2 plus `crosses`, the
 *   pairs of fields whose value pairs have a weight of their own (one more slot per cross, after
 *   the fields' slots; see encoding.ts). A model without crosses is still written as version 2,
 *   so that readers of version 2 keep reading it.
 * - format_version 1 (`logreg-hashed`, the first version): `weights.bin` alone. It still loads, as
 *   a model without factors or counts, so that the artifacts already registered keep serving.
 *
 * Beside them, a trained model may carry its optimizer state (`optimizer.json`, `optimizer.bin`,
 * see optimizer-state.ts) for a later warm start; it is outside model.json, and loading ignores it.
 *
 * Loading refuses anything corrupt, truncated or mismatched with an InvalidModelError that says
 * what is wrong; a refused artifact is never half-loaded.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { endianness } from 'node:os';
import { join } from 'node:path';
import * as z from 'zod';
import { writeAtomically } from './atomic-write.js';
import { type Cross, HASH_NAME, MAX_BITS, MIN_BITS } from './encoding.js';
import { type OptimizerState, removeOptimizerState, writeOptimizerState } from './optimizer-state.js';

/** The format of a model without crosses (readers of version 2 still read it). */
export const FORMAT_VERSION = 2;
/** The format of a model with crosses: version 2 plus the `crosses` list. */
export const CROSS_FORMAT_VERSION = 3;
/** Crosses a model.json may list, at most. */
export const MAX_MANIFEST_CROSSES = 64;
export const ALGORITHM = 'fm-hashed';
/** The first artifact format: hashed logistic regression, weights.bin only. Loaded, never written. */
export const LEGACY_FORMAT_VERSION = 1;
export const LEGACY_ALGORITHM = 'logreg-hashed';
export const MANIFEST_FILE = 'model.json';
export const WEIGHTS_FILE = 'weights.bin';
export const FACTORS_FILE = 'factors.bin';
export const COUNTS_FILE = 'counts.bin';
/** model.json larger than this is refused before it is parsed. */
export const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;
/** Latent factors per slot, at most (a guard against a manifest that asks for gigabytes). */
export const MAX_FACTOR_DIM = 64;
/** Slot counts saturate here (uint16). */
export const MAX_COUNT = 0xffff;

/** The artifact cannot be used: corrupt, truncated, mismatched, unsafe or not an artifact at all. */
export class InvalidModelError extends Error {
  override readonly name = 'InvalidModelError';
}

const Scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const IsoTime = z.iso.datetime({ offset: true });
const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits');

const header = {
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
  bias: z.number(),
  created_at: IsoTime,
  metadata: z.record(z.string(), Scalar).default({}),
};

function arrayDescriptor<F extends string, D extends string>(file: F, dtype: D) {
  return z
    .object({
      file: z.literal(file),
      dtype: z.literal(dtype),
      length: z.number().int().nonnegative(),
      sha256: Sha256,
    })
    .strict();
}

function checkLength(ctx: z.RefinementCtx, path: string[], actual: number, expected: number, what: string): void {
  if (actual !== expected) {
    ctx.addIssue({ code: 'custom', path, message: `must be ${what} = ${expected}, got ${actual}` });
  }
}

/** model.json of format_version 1 (read only). */
export const ModelManifestV1Schema = z
  .object({
    format_version: z.literal(LEGACY_FORMAT_VERSION),
    algorithm: z.literal(LEGACY_ALGORITHM),
    ...header,
    weights: arrayDescriptor(WEIGHTS_FILE, 'float32'),
  })
  .strict()
  .superRefine((m, ctx) => {
    checkLength(ctx, ['weights', 'length'], m.weights.length, 2 ** m.hashing.bits, '2^hashing.bits');
  });

/** The members of model.json in format versions 2 and 3 (3 adds `crosses`). */
const fmMembers = {
  algorithm: z.literal(ALGORITHM),
  ...header,
  /** Latent factors per slot; 0 = no pairwise terms (plain logistic regression). */
  factor_dim: z.number().int().min(0).max(MAX_FACTOR_DIM),
  /** A value seen in fewer training rows than this is scored as its field's rare token. */
  min_count: z.number().int().min(0).max(MAX_COUNT),
  /** The training rows' click rate (before down-sampling); scales the evidence of a count. */
  training_click_rate: z.number().min(0).max(1).nullable(),
  weights: arrayDescriptor(WEIGHTS_FILE, 'float32'),
  factors: arrayDescriptor(FACTORS_FILE, 'float32'),
  counts: arrayDescriptor(COUNTS_FILE, 'uint16').nullable(),
};

type FmManifestBody = z.output<z.ZodObject<typeof fmMembers>>;

function checkFm(m: FmManifestBody, ctx: z.RefinementCtx): void {
  const slots = 2 ** m.hashing.bits;
  checkLength(ctx, ['weights', 'length'], m.weights.length, slots, '2^hashing.bits');
  if (m.counts !== null) {
    checkLength(ctx, ['counts', 'length'], m.counts.length, slots, '2^hashing.bits');
    // How many slots have a non-zero count is only known once counts.bin is read (loadModel checks it).
    if (m.factor_dim === 0 ? m.factors.length !== 0 : m.factors.length % m.factor_dim !== 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['factors', 'length'],
        message: `must be a multiple of factor_dim = ${m.factor_dim}, got ${m.factors.length}`,
      });
    }
  } else {
    checkLength(ctx, ['factors', 'length'], m.factors.length, slots * m.factor_dim, '2^hashing.bits × factor_dim');
  }
  if (m.counts === null && m.min_count > 0) {
    ctx.addIssue({ code: 'custom', path: ['min_count'], message: 'must be 0 when the model has no counts' });
  }
}

/** model.json of format_version 2 (written for a model without crosses). */
export const ModelManifestSchema = z
  .object({ format_version: z.literal(FORMAT_VERSION), ...fmMembers })
  .strict()
  .superRefine(checkFm);

/** model.json of format_version 3 (written for a model with crosses). */
export const ModelManifestV3Schema = z
  .object({
    format_version: z.literal(CROSS_FORMAT_VERSION),
    ...fmMembers,
    /** Pairs of distinct fields; a row's slot of cross c follows its fields' slots (encoding.ts). */
    crosses: z
      .array(z.tuple([z.string(), z.string()]))
      .min(1)
      .max(MAX_MANIFEST_CROSSES),
  })
  .strict()
  .superRefine((m, ctx) => {
    checkFm(m, ctx);
    const fields = new Set(m.fields);
    const seen = new Set<string>();
    m.crosses.forEach(([a, b], c) => {
      const key = a < b ? JSON.stringify([a, b]) : JSON.stringify([b, a]);
      if (!fields.has(a) || !fields.has(b) || a === b || seen.has(key)) {
        ctx.addIssue({
          code: 'custom',
          path: ['crosses', c],
          message: 'must be a pair of two different fields of the model, each pair once',
        });
      }
      seen.add(key);
    });
  });

export type ModelManifestV1 = z.output<typeof ModelManifestV1Schema>;
export type ModelManifestV2 = z.output<typeof ModelManifestSchema>;
export type ModelManifestV3 = z.output<typeof ModelManifestV3Schema>;
/** A parsed model.json, of any format version. */
export type ModelManifest = ModelManifestV1 | ModelManifestV2 | ModelManifestV3;
export type WeightsDescriptor = ModelManifestV2['weights'];

/** What every format holds beside its arrays. */
export type ModelHeader = Omit<
  ModelManifestV2,
  'format_version' | 'algorithm' | 'weights' | 'factors' | 'counts' | 'factor_dim' | 'min_count' | 'training_click_rate'
>;

/**
 * A model in memory. A version 1 artifact loads as a model with factor_dim 0, no counts and
 * min_count 0, which scores exactly as it did.
 */
export interface Model extends ModelHeader {
  /** Informational on a model being saved: saveModel always writes the current format. */
  readonly format_version?: number;
  readonly algorithm?: string;
  /** One linear weight per slot (2^bits). */
  readonly weights: Float32Array;
  /** Latent factors per slot (0 = none). */
  readonly factor_dim: number;
  /** 2^bits × factor_dim factors, slot major: slot s owns [s·dim, (s+1)·dim). */
  readonly factors: Float32Array;
  /** Training rows per slot (saturating at 65535), or null when unknown (version 1). */
  readonly counts: Uint16Array | null;
  /** Values seen in fewer training rows than this are scored as their field's rare token. */
  readonly min_count: number;
  /** The training rows' click rate, or null when unknown (version 1). */
  readonly training_click_rate: number | null;
  /** Pairs of fields whose value pairs have a weight of their own (absent or empty: none). */
  readonly crosses?: readonly Cross[];
  /**
   * The trainer's optimizer state, for a later warm start (optimizer-state.ts). saveModel writes
   * it beside the artifact; loadModel and the scorer never read it.
   */
  readonly optimizer?: OptimizerState | null;
}

/** A model read from disk, with its manifest exactly as parsed. */
export interface LoadedModel extends Model {
  readonly format_version: number;
  readonly algorithm: string;
  readonly manifest: ModelManifest;
}

const LITTLE_ENDIAN_HOST = endianness() === 'LE';

/** The array as little-endian bytes (a view, no copy, on little-endian hosts). */
function bytesOf(array: Float32Array | Uint16Array): Buffer {
  if (LITTLE_ENDIAN_HOST) return Buffer.from(array.buffer, array.byteOffset, array.byteLength);
  const out = Buffer.allocUnsafe(array.byteLength);
  if (array instanceof Float32Array) for (let i = 0; i < array.length; i++) out.writeFloatLE(array[i]!, i * 4);
  else for (let i = 0; i < array.length; i++) out.writeUInt16LE(array[i]!, i * 2);
  return out;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function firstNonFinite(values: Float32Array): number {
  for (let i = 0; i < values.length; i++) {
    const w = values[i]!;
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

/** The factors as stored: only the slots with a non-zero count (all of them without counts). */
function storedFactors(model: Model): Float32Array {
  const { counts, factor_dim: k, factors } = model;
  if (counts === null || k === 0 || factors.length !== counts.length * k) return factors;
  let kept = 0;
  for (let s = 0; s < counts.length; s++) if (counts[s] !== 0) kept++;
  const out = new Float32Array(kept * k);
  let at = 0;
  for (let s = 0; s < counts.length; s++) {
    if (counts[s] === 0) continue;
    const base = s * k;
    for (let f = 0; f < k; f++) out[at++] = factors[base + f]!;
  }
  return out;
}

/** The manifest that describes `model` in the current format (computes the arrays' sha256). */
export function manifestOf(model: Model): ModelManifestV2 | ModelManifestV3 {
  return describe(model, storedFactors(model));
}

function describe(model: Model, stored: Float32Array): ModelManifestV2 | ModelManifestV3 {
  const k = model.factor_dim;
  const slots = 2 ** model.hashing.bits;
  if (model.factors.length !== slots * k) {
    throw new InvalidModelError(
      `model is not valid: factors hold ${model.factors.length} values, 2^bits × factor_dim = ${slots * k}`,
    );
  }
  if (model.counts !== null && k > 0) {
    // Factors of a slot with a count of 0 are not stored: they must be 0 to score the same after a reload.
    for (let s = 0; s < model.counts.length; s++) {
      if (model.counts[s] !== 0) continue;
      for (let f = 0; f < k; f++) {
        if (model.factors[s * k + f] !== 0) {
          throw new InvalidModelError(`model is not valid: slot ${s} has a count of 0 but non-zero factors`);
        }
      }
    }
  }
  // Only the header is copied: a LoadedModel also carries its parsed manifest and version.
  const candidate = {
    format_version: FORMAT_VERSION,
    algorithm: ALGORITHM,
    hashing: model.hashing,
    fields: model.fields,
    hyperparameters: model.hyperparameters,
    training_window: model.training_window,
    metrics: model.metrics,
    negative_sampling_rate: model.negative_sampling_rate,
    bias: model.bias,
    created_at: model.created_at,
    metadata: model.metadata,
    factor_dim: model.factor_dim,
    min_count: model.min_count,
    training_click_rate: model.training_click_rate,
    weights: {
      file: WEIGHTS_FILE,
      dtype: 'float32',
      length: model.weights.length,
      sha256: sha256(bytesOf(model.weights)),
    },
    factors: {
      file: FACTORS_FILE,
      dtype: 'float32',
      length: stored.length,
      sha256: sha256(bytesOf(stored)),
    },
    counts:
      model.counts === null
        ? null
        : { file: COUNTS_FILE, dtype: 'uint16', length: model.counts.length, sha256: sha256(bytesOf(model.counts)) },
  };
  const crosses = model.crosses ?? [];
  const parsed =
    crosses.length === 0
      ? ModelManifestSchema.safeParse(candidate)
      : ModelManifestV3Schema.safeParse({
          ...candidate,
          format_version: CROSS_FORMAT_VERSION,
          crosses: crosses.map(([a, b]) => [a, b]),
        });
  if (!parsed.success) throw new InvalidModelError(`model is not valid: ${describeIssues(parsed.error)}`);
  for (const [name, values] of [
    ['weight', model.weights],
    ['factor', model.factors],
  ] as const) {
    const bad = firstNonFinite(values);
    if (bad >= 0) throw new InvalidModelError(`model is not valid: ${name} ${bad} is ${values[bad]}`);
  }
  if (!Number.isFinite(model.bias)) throw new InvalidModelError(`model is not valid: bias is ${model.bias}`);
  return parsed.data;
}

/**
 * Writes the artifact folder (created if needed) in the current format: the arrays first,
 * model.json last, each through a rename, so a reader never sees a manifest whose arrays are not
 * complete. A counts.bin left over from an earlier model in the folder is removed when the model
 * has no counts, and likewise the optimizer state (optimizer.json, optimizer.bin) when the model
 * carries none: a model loaded with loadModel and saved again loses its warm-start state.
 */
export async function saveModel(dir: string, model: Model): Promise<ModelManifestV2 | ModelManifestV3> {
  const stored = storedFactors(model);
  const manifest = describe(model, stored);
  await mkdir(dir, { recursive: true });
  await writeAtomically(join(dir, WEIGHTS_FILE), bytesOf(model.weights));
  await writeAtomically(join(dir, FACTORS_FILE), bytesOf(stored));
  if (model.counts === null) await rm(join(dir, COUNTS_FILE), { force: true });
  else await writeAtomically(join(dir, COUNTS_FILE), bytesOf(model.counts));
  // Before model.json too: a state that names other weights is refused, so a crash in between is safe.
  if (model.optimizer && model.counts !== null) {
    await writeOptimizerState(dir, model.optimizer, model.counts, manifest.weights.sha256);
  } else {
    await removeOptimizerState(dir);
  }
  await writeAtomically(join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | null)?.code === 'ENOENT';
}

/** Reads and validates model.json alone (cheap: does not touch the arrays). */
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
  const { format_version: version, algorithm } = raw as Record<string, unknown>;
  const expected =
    version === FORMAT_VERSION || version === CROSS_FORMAT_VERSION
      ? ALGORITHM
      : version === LEGACY_FORMAT_VERSION
        ? LEGACY_ALGORITHM
        : undefined;
  if (expected === undefined) {
    throw new InvalidModelError(
      `${MANIFEST_FILE} has format_version ${JSON.stringify(version)}; this reader supports ${LEGACY_FORMAT_VERSION} to ${CROSS_FORMAT_VERSION}`,
    );
  }
  if (algorithm !== expected) {
    throw new InvalidModelError(
      `${MANIFEST_FILE} has algorithm ${JSON.stringify(algorithm)}; format_version ${version} is ${JSON.stringify(expected)}`,
    );
  }
  const schema =
    version === FORMAT_VERSION
      ? ModelManifestSchema
      : version === CROSS_FORMAT_VERSION
        ? ModelManifestV3Schema
        : ModelManifestV1Schema;
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw new InvalidModelError(`${MANIFEST_FILE} does not match the schema: ${describeIssues(parsed.error)}`);
  }
  return parsed.data;
}

const ELEMENT_BYTES = { float32: 4, uint16: 2 } as const;

/** Reads one array file and checks its size and sha256 against its descriptor. */
async function readArray(
  dir: string,
  descriptor: { file: string; dtype: 'float32' | 'uint16'; length: number; sha256: string },
): Promise<Float32Array | Uint16Array> {
  const { file, dtype, length, sha256: expected } = descriptor;
  const bytesPerElement = ELEMENT_BYTES[dtype];
  const size = length * bytesPerElement;
  const path = join(dir, file);
  let bytes: Buffer;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new InvalidModelError(`${file} in ${dir} is not a regular file`);
    if (info.size !== size) {
      throw new InvalidModelError(
        `${file} holds ${info.size} bytes but the manifest says ${length} ${dtype} values (${size} bytes): truncated or mismatched`,
      );
    }
    bytes = await readFile(path);
  } catch (error) {
    if (isNotFound(error)) throw new InvalidModelError(`${file} is missing in ${dir}`);
    throw error;
  }
  if (bytes.length !== size) throw new InvalidModelError(`${file} changed while it was read (${bytes.length} bytes)`);
  const actual = sha256(bytes);
  if (actual !== expected) {
    throw new InvalidModelError(`${file} sha256 is ${actual}, the manifest says ${expected}: corrupt or mismatched`);
  }
  if (dtype === 'uint16') {
    if (LITTLE_ENDIAN_HOST && bytes.byteOffset % 2 === 0)
      return new Uint16Array(bytes.buffer, bytes.byteOffset, length);
    const out = new Uint16Array(length);
    for (let i = 0; i < length; i++) out[i] = bytes.readUInt16LE(i * 2);
    return out;
  }
  let values: Float32Array;
  if (LITTLE_ENDIAN_HOST && bytes.byteOffset % 4 === 0)
    values = new Float32Array(bytes.buffer, bytes.byteOffset, length);
  else {
    values = new Float32Array(length);
    for (let i = 0; i < length; i++) values[i] = bytes.readFloatLE(i * 4);
  }
  const bad = firstNonFinite(values);
  if (bad >= 0) throw new InvalidModelError(`${file} value ${bad} is ${values[bad]}`);
  return values;
}

function headerOf(manifest: ModelManifest): ModelHeader {
  return {
    hashing: manifest.hashing,
    fields: manifest.fields,
    hyperparameters: manifest.hyperparameters,
    training_window: manifest.training_window,
    metrics: manifest.metrics,
    negative_sampling_rate: manifest.negative_sampling_rate,
    bias: manifest.bias,
    created_at: manifest.created_at,
    metadata: manifest.metadata,
  };
}

/** Loads and verifies an artifact folder (version 1, 2 or 3); throws InvalidModelError when anything is wrong. */
export async function loadModel(dir: string): Promise<LoadedModel> {
  const manifest = await readManifest(dir);
  const weights = (await readArray(dir, manifest.weights)) as Float32Array;
  const base = {
    ...headerOf(manifest),
    format_version: manifest.format_version,
    algorithm: manifest.algorithm,
    manifest,
    weights,
  };
  if (manifest.format_version === LEGACY_FORMAT_VERSION) {
    return {
      ...base,
      factor_dim: 0,
      factors: new Float32Array(0),
      counts: null,
      min_count: 0,
      training_click_rate: null,
    };
  }
  const counts = manifest.counts === null ? null : ((await readArray(dir, manifest.counts)) as Uint16Array);
  const stored = (await readArray(dir, manifest.factors)) as Float32Array;
  const k = manifest.factor_dim;
  let factors = stored;
  if (counts !== null && k > 0) {
    let kept = 0;
    for (let s = 0; s < counts.length; s++) if (counts[s] !== 0) kept++;
    if (stored.length !== kept * k) {
      throw new InvalidModelError(
        `${FACTORS_FILE} holds ${stored.length} values but counts.bin has ${kept} slots with a non-zero count × factor_dim ${k} = ${kept * k}: mismatched`,
      );
    }
    factors = new Float32Array(counts.length * k);
    let at = 0;
    // A plain loop: a subarray per slot would allocate a million views.
    for (let s = 0; s < counts.length; s++) {
      if (counts[s] === 0) continue;
      const base = s * k;
      for (let f = 0; f < k; f++) factors[base + f] = stored[at++]!;
    }
  }
  return {
    ...base,
    factor_dim: manifest.factor_dim,
    factors,
    counts,
    min_count: manifest.min_count,
    training_click_rate: manifest.training_click_rate,
    crosses: manifest.format_version === CROSS_FORMAT_VERSION ? manifest.crosses : [],
  };
}
