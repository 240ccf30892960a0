import { rename, rm, writeFile } from 'node:fs/promises';

/**
 * Writes a file whole or not at all (a temporary beside it, renamed over it): a crash mid-save
 * never leaves a model folder with a half-written part that would still load.
 */
export async function writeAtomically(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${Date.now().toString(36)}`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}
