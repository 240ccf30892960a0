import { existsSync, readlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { setPriority } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';

/**
 * Young generation of every worker thread, in MB per semi-space. The server runs with
 * `--max-semi-space-size=64` for its request path's throughput (docs/decisions.md), and V8 applies
 * that flag to every isolate, overriding a Worker's `resourceLimits`: each background thread
 * (compaction, WAL checkpoints, bootstrap training) grew its own 128 MB young generation, a third
 * of the server's RSS under load. Their throughput matters little (they run at nice 15).
 */
export const WORKER_SEMI_SPACE_MB = 8;

let workerHeapsLimited = false;

/**
 * Sets the semi-space flag for isolates created from now on (the worker threads); the main
 * isolate keeps the size it was configured with at start. V8 reads the flag when it creates an
 * isolate, so this must run before the first Worker is constructed: spawnWorker and the SQLite
 * checkpointer call it.
 */
export function limitWorkerHeaps(): void {
  if (workerHeapsLimited) return;
  workerHeapsLimited = true;
  setFlagsFromString(`--max-semi-space-size=${WORKER_SEMI_SPACE_MB}`);
}

/**
 * Starts a worker thread on the module `name` beside the caller (`callerUrl` is the caller's
 * `import.meta.url`), with the caller's extension: from TypeScript sources (tsx, vitest) the worker
 * first registers tsx's ESM loader, which it cannot inherit from this thread on Node 20; from
 * compiled JavaScript it loads the .js entry.
 */
export function spawnWorker(callerUrl: string, name: string, workerData?: unknown): Worker {
  limitWorkerHeaps();
  const fromSources = callerUrl.endsWith('.ts');
  const entry = new URL(`./${name}.${fromSources ? 'ts' : 'js'}`, callerUrl);
  if (!fromSources) return new Worker(entry, { workerData });
  const require = createRequire(import.meta.url);
  const tsxApi = join(dirname(require.resolve('tsx/package.json')), 'dist', 'esm', 'api', 'index.mjs');
  if (!existsSync(tsxApi)) throw new Error(`cannot find tsx's ESM API at ${tsxApi}`);
  const code = `import(${JSON.stringify(pathToFileURL(tsxApi).href)}).then((m) => m.register()).then(() => import(${JSON.stringify(entry.href)}));`;
  return new Worker(code, { eval: true, workerData });
}

/**
 * Lowers the scheduling priority of the calling thread (Linux: a thread is a task with its own
 * nice value). Background work (compaction, checkpoints, training) then takes only the CPU the
 * request path leaves, so it cannot add its seconds to a request's latency on a busy core.
 * Elsewhere, or if the kernel refuses, it does nothing.
 */
export function lowerThisThreadPriority(nice = 15): void {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, nice);
  } catch {
    // Not Linux, or no /proc: run at normal priority.
  }
}
