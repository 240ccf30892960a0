/**
 * Module-init time of a bundle: a fresh `node` process imports it and reports how long the import
 * took (resolving, loading and evaluating the bundle and whatever it imports from node_modules,
 * the SDK included), without calling the handler. A fresh process each time, so nothing is cached
 * in memory; the OS page cache is warm after the first round, which is not measured.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { percentile } from '../support.js';

/** Plain JavaScript, run by node without a TypeScript loader, so it times nothing but the import. */
const IMPORT_TIMER = `import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
const url = process.argv[2];
const t0 = performance.now();
// As the Lambda runtime loads a handler: require for CommonJS, import() for an ES module.
if (url.endsWith('.mjs')) await import(url);
else createRequire(import.meta.url)(fileURLToPath(url));
const t1 = performance.now();
process.stdout.write(JSON.stringify({ importMs: t1 - t0, bootMs: t0 }) + '\\n');
process.exit(0);
`;

/** Writes the import timer and an empty CommonJS module (the baseline) into `dir`. */
export function writeInitProbes(dir: string): { timer: string; empty: string } {
  const timer = join(dir, 'import-timer.mjs');
  const empty = join(dir, 'empty.cjs');
  writeFileSync(timer, IMPORT_TIMER);
  writeFileSync(empty, 'module.exports = {};\n');
  return { timer, empty };
}

export interface InitSample {
  /** Milliseconds the import of the module took. */
  readonly importMs: number;
  /** Milliseconds from the process's time origin to the first line of the timer (node's own start-up). */
  readonly bootMs: number;
}

export interface InitRunOptions {
  readonly timer: string;
  /** Environment of the child, and nothing else (no NODE_OPTIONS from a TypeScript loader). */
  readonly env: Readonly<Record<string, string>>;
  /** Prefix of the command, e.g. `['taskset', '-c', '0']`, or none. */
  readonly pin?: readonly string[];
}

/** One fresh node process importing `module`. Rejects with the child's stderr when the import fails. */
export function importOnce(module: string, options: InitRunOptions): Promise<InitSample> {
  const node = [process.execPath, options.timer, pathToFileURL(module).href];
  const [command, ...args] = options.pin && options.pin.length > 0 ? [...options.pin, ...node] : node;
  return new Promise((resolve, reject) => {
    execFile(command!, args, { env: { ...options.env }, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) {
        reject(new Error(`importing ${module} failed: ${stderr.trim() || err.message}`));
        return;
      }
      const line = stdout.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(line) as InitSample);
      } catch {
        reject(new Error(`importing ${module} printed no timing: ${stdout.slice(0, 500)} ${stderr.slice(0, 500)}`));
      }
    });
  });
}

export interface InitStats {
  readonly runs: number;
  readonly medianMs: number;
  readonly p90Ms: number;
  readonly minMs: number;
  readonly maxMs: number;
  readonly bootMedianMs: number;
}

export function initStats(samples: readonly InitSample[]): InitStats {
  const ms = samples.map((s) => s.importMs).sort((a, b) => a - b);
  const boot = samples.map((s) => s.bootMs).sort((a, b) => a - b);
  return {
    runs: ms.length,
    medianMs: percentile(ms, 50),
    p90Ms: percentile(ms, 90),
    minMs: ms[0] ?? Number.NaN,
    maxMs: ms[ms.length - 1] ?? Number.NaN,
    bootMedianMs: percentile(boot, 50),
  };
}

/**
 * Imports each module `runs` times, one fresh process each, taking turns (baseline, then every
 * bundle, round after round) so that a disturbance lands on all of them rather than on one. One
 * unmeasured round first reads every file into the page cache. A module whose import fails is
 * reported with its error and dropped from the later rounds.
 */
export async function measureInit(
  modules: readonly string[],
  runs: number,
  options: InitRunOptions,
): Promise<Map<string, { samples: InitSample[]; error?: string }>> {
  const results = new Map(
    modules.map((m) => [m, { samples: [] as InitSample[], error: undefined as string | undefined }]),
  );
  for (let round = -1; round < runs; round++) {
    for (const module of modules) {
      const r = results.get(module)!;
      if (r.error) continue;
      try {
        const sample = await importOnce(module, options);
        if (round >= 0) r.samples.push(sample);
      } catch (err) {
        r.error = (err as Error).message;
      }
    }
  }
  return results;
}
