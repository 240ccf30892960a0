/**
 * Where a pipeline step finds a model. Locally a model is its folder; in AWS a training job's
 * output (and so every later step's input) is `model.tar.gz`, which SageMaker downloads into a
 * folder of its own (a processing input, a training channel). One reader takes all three shapes so
 * that every step accepts what the step before it wrote, however it ran.
 */
import { existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidModelError, MANIFEST_FILE } from './artifact.js';
import { unpackModel } from './pack.js';

const ARCHIVE = /\.tar\.gz$|\.tgz$/;

/** The archive a folder holds when it is not a model folder itself (exactly one, else null). */
async function archiveIn(dir: string): Promise<string | null> {
  const archives = (await readdir(dir)).filter((f) => ARCHIVE.test(f) && !f.startsWith('.')).sort();
  if (archives.length > 1) {
    throw new InvalidModelError(`${dir} holds ${archives.length} model archives (${archives.join(', ')}); give it one`);
  }
  return archives.length === 1 ? join(dir, archives[0]!) : null;
}

/**
 * The model folder of `path`: a model folder as it is, a model tar.gz (or a folder holding exactly
 * one) unpacked into `unpackTo` (which must not exist or be empty). An InvalidModelError says why
 * `path` holds no model.
 */
export async function modelFolder(path: string, unpackTo: string): Promise<string> {
  if (!existsSync(path)) throw new InvalidModelError(`${path} does not exist`);
  if ((await stat(path)).isDirectory()) {
    if (existsSync(join(path, MANIFEST_FILE))) return path;
    const archive = await archiveIn(path);
    if (!archive) throw new InvalidModelError(`${path} holds neither ${MANIFEST_FILE} nor a model.tar.gz`);
    await unpackModel(archive, unpackTo);
    return unpackTo;
  }
  if (!ARCHIVE.test(path)) throw new InvalidModelError(`${path} is neither a model folder nor a model.tar.gz`);
  await unpackModel(path, unpackTo);
  return unpackTo;
}

/** Whether `path` holds a model in any shape modelFolder reads (without unpacking it). */
export async function holdsModel(path: string): Promise<boolean> {
  if (!existsSync(path)) return false;
  if (!(await stat(path)).isDirectory()) return ARCHIVE.test(path);
  return existsSync(join(path, MANIFEST_FILE)) || (await archiveIn(path)) !== null;
}
