import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataFormatError } from '../../../sagemaker/data/errors.js';

/** A scratch folder for data files, removed by `cleanup`. */
export function scratch(prefix: string): { write(name: string, text: string): string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), `adclick-${prefix}-`));
  return {
    write(name, text) {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The DataFormatError that `run` throws (any other outcome fails the test). */
export function failure(run: () => unknown): DataFormatError {
  try {
    run();
  } catch (error) {
    if (error instanceof DataFormatError) return error;
    throw error;
  }
  throw new Error('expected a DataFormatError');
}
