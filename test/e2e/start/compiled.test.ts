import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerProcess, spawnServer, type TempDir, tempDir } from '../../support/e2e-server.js';

const ROOT = resolve(import.meta.dirname, '../../..');

// What `npm start` runs: the build, then node on dist/ with no TypeScript loader. The worker
// threads (bootstrap training, SQLite checkpoints, compaction) must load from dist/ too.
describe('npm start: the compiled server', () => {
  let data: TempDir;
  let server: ServerProcess;

  beforeAll(async () => {
    execFileSync(process.execPath, [resolve(ROOT, 'scripts/build.mjs')], { cwd: ROOT, stdio: 'pipe' });
    data = await tempDir('compiled');
    server = await spawnServer(data.path, {}, 90_000, [
      process.execPath,
      '--max-semi-space-size=64',
      resolve(ROOT, 'dist/bin/adclick.js'),
    ]);
  }, 120_000);

  afterAll(async () => {
    server?.terminate();
    await server?.exited;
    await data?.cleanup();
  });

  it('builds every module, with the plain-JavaScript worker beside its caller', () => {
    expect(existsSync(resolve(ROOT, 'dist/lambdas/adapters/local/sqlite/checkpoint-worker.mjs'))).toBe(true);
    expect(existsSync(resolve(ROOT, 'dist/lambdas/server/bootstrap-worker.js'))).toBe(true);
  });

  it('trains its bootstrap model in a worker and answers /predict', async () => {
    // Act
    const res = await fetch(`${server.url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user_id: 'u1', ad_id: 'a1', features: { device_type: 'mobile' } }),
    });
    const body = (await res.json()) as { probability: number; prediction_id: string; model_version: string };
    // Assess
    expect(res.status).toBe(200);
    expect(body.probability).toBeGreaterThan(0);
    expect(body.probability).toBeLessThan(1);
    expect(body.model_version).toMatch(/^bootstrap/);
  });

  it('acknowledges an impression once it is on disk', async () => {
    const res = await fetch(`${server.url}/event/impression`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        impression_id: 'imp-compiled-1',
        user_id: 'u1',
        ad_id: 'a1',
        timestamp: new Date().toISOString(),
      }),
    });
    expect(res.status).toBe(202);
  });

  it('stops cleanly on SIGTERM', async () => {
    server.terminate();
    const { code } = await server.exited;
    expect(code).toBe(0);
  });
});
