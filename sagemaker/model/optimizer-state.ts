/**
 * The trainer's optimizer state, saved beside an artifact so that a later training can continue
 * from it (a warm start, sagemaker/model/warm-start.ts): per slot the FTRL-Proximal z and n of the
 * linear part and the row-wise AdaGrad accumulator g of the factors, plus the bias's n.
 *
 * It lives in files of its own, `optimizer.json` and `optimizer.bin`, not in model.json: the
 * scorer never reads it, and model.json's strict schema stays as it was, so a reader older than
 * this file still loads (and scores) an artifact that carries the state. Since it is outside the
 * manifest, `optimizer.json` names the sha256 of the weights it belongs to: a state left over from
 * another model in the same folder is refused, not used.
 *
 * `optimizer.bin` is float32 little-endian: z, then n, then g, each for every slot whose count is
 * not 0, in slot order (the slots factors.bin stores; every trained slot has a count). That is
 * 12 bytes per trained slot: 12 MiB in the worst case of all 2^20 slots trained.
 */
import { createHash } from 'node:crypto';
import { readFile, rm, stat } from 'node:fs/promises';
import { endianness } from 'node:os';
import { join } from 'node:path';
import * as z from 'zod';
import { writeAtomically } from './atomic-write.js';

export const OPTIMIZER_MANIFEST_FILE = 'optimizer.json';
export const OPTIMIZER_STATE_FILE = 'optimizer.bin';
const FORMAT = 'adclick-optimizer-state';
const VERSION = 1;
/** Three float32 arrays (z, n, g) per stored slot. */
const ARRAYS = 3;

/** The FTRL hyperparameters the state was accumulated with: its z and n mean weights only under them. */
export interface FtrlSettings {
  readonly alpha: number;
  readonly beta: number;
  readonly l1: number;
  readonly l2: number;
}

/** The optimizer state in memory: one value per hash slot (2^bits) in each array. */
export interface OptimizerState {
  readonly ftrl: FtrlSettings;
  /** FTRL z per slot. */
  readonly z: Float32Array;
  /** FTRL n (sum of squared gradients) per slot. */
  readonly n: Float32Array;
  /** Row-wise AdaGrad accumulator of the factors per slot; 0 = never trained. */
  readonly g: Float32Array;
  /** FTRL n of the bias (its z follows from the model's bias). */
  readonly bias_n: number;
}

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/);

export const OptimizerManifestSchema = z
  .object({
    format: z.literal(FORMAT),
    version: z.literal(VERSION),
    linear_optimizer: z.literal('ftrl-proximal'),
    factor_optimizer: z.literal('adagrad-rowwise'),
    /** sha256 of the weights.bin this state belongs to. */
    weights_sha256: Sha256,
    ftrl: z
      .object({ alpha: z.number().positive(), beta: z.number().min(0), l1: z.number().min(0), l2: z.number().min(0) })
      .strict(),
    bias_n: z.number().min(0),
    /** Slots stored (those with a non-zero count). */
    slots: z.number().int().nonnegative(),
    state: z
      .object({
        file: z.literal(OPTIMIZER_STATE_FILE),
        dtype: z.literal('float32'),
        length: z.number().int().nonnegative(),
        sha256: Sha256,
      })
      .strict(),
  })
  .strict();

export type OptimizerManifest = z.output<typeof OptimizerManifestSchema>;

const LITTLE_ENDIAN_HOST = endianness() === 'LE';

function bytesOf(array: Float32Array): Buffer {
  if (LITTLE_ENDIAN_HOST) return Buffer.from(array.buffer, array.byteOffset, array.byteLength);
  const out = Buffer.allocUnsafe(array.byteLength);
  for (let i = 0; i < array.length; i++) out.writeFloatLE(array[i]!, i * 4);
  return out;
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** The state's arrays packed for the slots with a non-zero count. */
function pack(state: OptimizerState, counts: Uint16Array): { packed: Float32Array; slots: number } {
  let slots = 0;
  for (let s = 0; s < counts.length; s++) if (counts[s] !== 0) slots++;
  const packed = new Float32Array(slots * ARRAYS);
  let at = 0;
  for (let s = 0; s < counts.length; s++) {
    if (counts[s] === 0) continue;
    packed[at] = state.z[s]!;
    packed[slots + at] = state.n[s]!;
    packed[2 * slots + at] = state.g[s]!;
    at++;
  }
  return { packed, slots };
}

/** Checks a state against the model's slot count; returns what is wrong, or null. */
export function stateProblem(state: OptimizerState, size: number): string | null {
  for (const [name, array] of [
    ['z', state.z],
    ['n', state.n],
    ['g', state.g],
  ] as const) {
    if (array.length !== size) return `its ${name} holds ${array.length} values, the model has ${size} slots`;
  }
  if (!(Number.isFinite(state.bias_n) && state.bias_n >= 0)) return `its bias n is ${state.bias_n}`;
  return null;
}

/**
 * Writes optimizer.json and optimizer.bin for the model whose weights.bin has `weightsSha256`.
 * Slots with a count of 0 were never trained, so their state (all 0) is not stored.
 */
export async function writeOptimizerState(
  dir: string,
  state: OptimizerState,
  counts: Uint16Array,
  weightsSha256: string,
): Promise<void> {
  const problem = stateProblem(state, counts.length);
  if (problem) throw new RangeError(`optimizer state is not valid: ${problem}`);
  const { packed, slots } = pack(state, counts);
  const bytes = bytesOf(packed);
  const manifest: OptimizerManifest = {
    format: FORMAT,
    version: VERSION,
    linear_optimizer: 'ftrl-proximal',
    factor_optimizer: 'adagrad-rowwise',
    weights_sha256: weightsSha256,
    ftrl: { ...state.ftrl },
    bias_n: state.bias_n,
    slots,
    state: { file: OPTIMIZER_STATE_FILE, dtype: 'float32', length: packed.length, sha256: sha256(bytes) },
  };
  await writeAtomically(join(dir, OPTIMIZER_STATE_FILE), bytes);
  await writeAtomically(join(dir, OPTIMIZER_MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
}

/** Removes a state left in the folder by an earlier model (a model saved without state). */
export async function removeOptimizerState(dir: string): Promise<void> {
  await rm(join(dir, OPTIMIZER_MANIFEST_FILE), { force: true });
  await rm(join(dir, OPTIMIZER_STATE_FILE), { force: true });
}

/** The state read back, or why it cannot be used. Never throws for a missing or bad state. */
export type ReadOptimizerResult = { readonly state: OptimizerState } | { readonly unavailable: string };

/**
 * Reads the optimizer state of the artifact in `dir`, whose weights.bin has `weightsSha256` and
 * whose slot counts are `counts`.
 */
export async function readOptimizerState(
  dir: string,
  counts: Uint16Array,
  weightsSha256: string,
): Promise<ReadOptimizerResult> {
  let text: string;
  try {
    text = await readFile(join(dir, OPTIMIZER_MANIFEST_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return { unavailable: `it has no ${OPTIMIZER_MANIFEST_FILE} (saved without optimizer state)` };
    }
    throw error;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return { unavailable: `its ${OPTIMIZER_MANIFEST_FILE} is not valid JSON: ${(error as Error).message}` };
  }
  const parsed = OptimizerManifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return {
      unavailable: `its ${OPTIMIZER_MANIFEST_FILE} does not match the schema: ${issue.path.join('.') || '(root)'}: ${issue.message}`,
    };
  }
  const m = parsed.data;
  if (m.weights_sha256 !== weightsSha256) {
    return { unavailable: `its ${OPTIMIZER_MANIFEST_FILE} belongs to other weights (a leftover of another model)` };
  }
  let slots = 0;
  for (let s = 0; s < counts.length; s++) if (counts[s] !== 0) slots++;
  if (m.slots !== slots || m.state.length !== slots * ARRAYS) {
    return { unavailable: `its optimizer state holds ${m.slots} slots, the model has ${slots} trained slots` };
  }
  const path = join(dir, OPTIMIZER_STATE_FILE);
  let bytes: Buffer;
  try {
    const info = await stat(path);
    if (info.size !== m.state.length * 4) {
      return { unavailable: `its ${OPTIMIZER_STATE_FILE} holds ${info.size} bytes, not ${m.state.length * 4}` };
    }
    bytes = await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      return { unavailable: `its ${OPTIMIZER_STATE_FILE} is missing` };
    throw error;
  }
  if (sha256(bytes) !== m.state.sha256) return { unavailable: `its ${OPTIMIZER_STATE_FILE} fails its sha256 check` };
  const packed = new Float32Array(m.state.length);
  for (let i = 0; i < packed.length; i++) packed[i] = bytes.readFloatLE(i * 4);
  const size = counts.length;
  const state: OptimizerState = {
    ftrl: m.ftrl,
    z: new Float32Array(size),
    n: new Float32Array(size),
    g: new Float32Array(size),
    bias_n: m.bias_n,
  };
  let at = 0;
  for (let s = 0; s < size; s++) {
    if (counts[s] === 0) continue;
    const zi = packed[at]!;
    const ni = packed[slots + at]!;
    const gi = packed[2 * slots + at]!;
    if (!Number.isFinite(zi) || !(ni >= 0) || !(gi >= 0) || !Number.isFinite(ni) || !Number.isFinite(gi)) {
      return { unavailable: `its optimizer state of slot ${s} is not finite or negative` };
    }
    state.z[s] = zi;
    state.n[s] = ni;
    state.g[s] = gi;
    at++;
  }
  return { state };
}
