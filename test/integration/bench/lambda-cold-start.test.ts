import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleHandler, findHandlerEntries, type HandlerBundle } from '../../../bench/lambda-cold-start/bundle.js';
import { lambdaLikeEnvironment } from '../../../bench/lambda-cold-start/environment.js';
import { importOnce, writeInitProbes } from '../../../bench/lambda-cold-start/init-time.js';
import { REPO_ROOT } from '../../../bench/support.js';

const HANDLERS = join(REPO_ROOT, 'lambdas', 'handlers');

describe('the Lambda cold-start benchmark', () => {
  let dir: string;
  let api: HandlerBundle;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lambda-cold-start-test-'));
    // The bundles leave the SDK out; it resolves from the repository's node_modules, as from the runtime's.
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    api = await bundleHandler(join(HANDLERS, 'api.ts'), { repoRoot: REPO_ROOT, outDir: dir });
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds the API entry among the handlers and leaves out files that export no handler', () => {
    const entries = findHandlerEntries(HANDLERS);

    expect(entries).toContain(join(HANDLERS, 'api.ts'));
    expect(entries).not.toContain(join(HANDLERS, 'config.ts'));
  });

  it('bundles the API handler into one ES module without the AWS SDK, with its bytes attributed', () => {
    expect(existsSync(api.file)).toBe(true);
    expect(api.bytes).toBe(statSync(api.file).size);
    expect(api.gzipBytes).toBeLessThan(api.bytes);
    expect(api.contributors.some((c) => c.name.startsWith('@aws-sdk/'))).toBe(false);
    const attributed = api.contributors.reduce((sum, c) => sum + c.bytes, 0);
    expect(attributed).toBeLessThanOrEqual(api.bytes);
    expect(attributed).toBeGreaterThan(api.bytes * 0.9);
  });

  it('imports the API bundle in a fresh node process and reports how long the import took', async () => {
    const { timer } = writeInitProbes(dir);

    const sample = await importOnce(api.file, { timer, env: lambdaLikeEnvironment(dir) });

    expect(Number.isFinite(sample.importMs)).toBe(true);
    expect(sample.importMs).toBeGreaterThan(0);
  });

  it('rejects with the child error when a module fails at import', async () => {
    const { timer } = writeInitProbes(dir);
    const broken = join(dir, 'broken.mjs');
    writeFileSync(broken, "throw new Error('broken at import');\n");

    await expect(importOnce(broken, { timer, env: lambdaLikeEnvironment(dir) })).rejects.toThrow(/broken at import/);
  });

  it("loads no SDK package at the predict function's import but the clients a prediction needs", async () => {
    // Prepare
    const predict = await bundleHandler(join(HANDLERS, 'predict.ts'), {
      repoRoot: REPO_ROOT,
      outDir: join(dir, 'predict'),
    });

    // Act: what a fresh process holds once the bundle is imported, as the runtime imports it
    const loaded = JSON.parse(
      execFileSync(
        process.execPath,
        ['-e', `require(${JSON.stringify(predict.file)}); console.log(JSON.stringify(Object.keys(require.cache)))`],
        { env: lambdaLikeEnvironment(dir), encoding: 'utf8' },
      ),
    ) as string[];
    const packages = new Set(loaded.map((f) => /node_modules\/(@aws-sdk\/client-[^/]+)/.exec(f)?.[1]).filter(Boolean));

    // Assess: S3 (the fallback copy) and SQS (a throttled write) load at their first use
    expect([...packages].sort()).toEqual([
      '@aws-sdk/client-dynamodb',
      '@aws-sdk/client-sagemaker-runtime',
      '@aws-sdk/client-secrets-manager',
    ]);
  });
});
