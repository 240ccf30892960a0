import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { WORKER_SEMI_SPACE_MB } from '../../../lambdas/adapters/local/threads.js';

const FIXTURE = fileURLToPath(new URL('../../fixtures/worker-young-generation.ts', import.meta.url));
const MB = 1024 * 1024;

describe('worker thread heaps', () => {
  it('keeps a worker young generation small while the main thread grows to the 64 MB semi-spaces it runs with', () => {
    // Prepare / Act: a process started as the server is, both threads allocating alike.
    const run = spawnSync(process.execPath, ['--max-semi-space-size=64', '--import', 'tsx', FIXTURE, '--run'], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(run.status, run.stderr).toBe(0);
    const { worker, main } = JSON.parse(run.stdout) as { worker: number; main: number };

    // Assess: new space is two semi-spaces (plus a page or so of rounding).
    expect(worker).toBeLessThanOrEqual(2 * WORKER_SEMI_SPACE_MB * MB + MB);
    expect(main).toBeGreaterThan(4 * WORKER_SEMI_SPACE_MB * MB);
  }, 130_000);
});
