import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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
