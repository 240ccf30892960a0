import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLocalConfig } from '../../../lambdas/server/config.js';
import { type LocalRuntime, startLocal } from '../../../lambdas/server/local-runtime.js';
import { trainBootstrapModel } from '../../../sagemaker/index.js';

const ROOT = resolve(import.meta.dirname, '../../..');

function adclick(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/adclick.js'), ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('close', (code) => done({ code: code ?? -1, stdout, stderr }));
  });
}

describe('adclick model upload', () => {
  const work = mkdtempSync(join(tmpdir(), 'adclick-cli-'));
  let runtime: LocalRuntime;
  let modelDir: string;

  beforeAll(async () => {
    runtime = await startLocal(
      parseLocalConfig({
        PORT: '0',
        ADCLICK_DATA_DIR: join(work, 'data'),
        ADCLICK_LOG_LEVEL: 'silent',
        ADCLICK_BOOTSTRAP_ROWS: '20000',
      }),
    );
    modelDir = (await trainBootstrapModel(join(work, 'model'), { rows: 20_000, seed: 7 })).dir;
  });

  afterAll(async () => {
    await runtime?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('registers, uploads, validates and (forced) activates a model folder in one command', async () => {
    // Act
    const run = await adclick([
      'model',
      'upload',
      modelDir,
      '--server',
      runtime.url,
      '--token',
      runtime.adminToken,
      '--version',
      'cli-test-1',
      '--metadata',
      'owner=mlops',
      '--activate',
      '--force',
    ]);

    // Assess
    expect(run.code, run.stderr).toBe(0);
    const model = JSON.parse(run.stdout);
    expect(model).toMatchObject({ version: 'cli-test-1', status: 'champion', algorithm: 'fm-hashed' });
    expect(model.metadata).toMatchObject({ owner: 'mlops' });
    const active = await fetch(`${runtime.url}/model/active`, {
      headers: { authorization: `Bearer ${runtime.adminToken}` },
    });
    expect(((await active.json()) as { version: string }).version).toBe('cli-test-1');
  });

  it('reads the admin token from the data dir when none is given', async () => {
    // Act
    const run = await adclick(
      ['model', 'upload', modelDir, '--server', runtime.url, '--data-dir', runtime.dataDir, '--version', 'cli-test-2'],
      {
        ADCLICK_ADMIN_TOKEN: '',
      },
    );

    // Assess
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ version: 'cli-test-2', status: 'candidate' });
  });

  it('exits 1 with the reason when the folder is not a model', async () => {
    // Act
    const run = await adclick([
      'model',
      'upload',
      join(work, 'missing-dir'),
      '--server',
      runtime.url,
      '--token',
      runtime.adminToken,
    ]);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^adclick: .*model\.json/m);
  });

  it('exits 1 naming the refusal when the server refuses the token', async () => {
    // Act
    const run = await adclick([
      'model',
      'upload',
      modelDir,
      '--server',
      runtime.url,
      '--token',
      'wrong-token-wrong-token',
      '--version',
      'x',
    ]);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/401/);
  });
});
