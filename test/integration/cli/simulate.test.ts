import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../../lambdas/server/local-runtime.js';
import { call, lakeTable, queryDuckDb, startInProcess, type TempDir, tempDir } from '../../support/e2e-server.js';

const ROOT = resolve(import.meta.dirname, '../../..');

function adclick(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/adclick.js'), ...args], { cwd: ROOT, env: process.env });
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

async function lakeImpressions(dataDir: string, runId: string): Promise<number> {
  try {
    const rows = await queryDuckDb(
      `SELECT CAST(count(*) AS INTEGER) AS n FROM ${lakeTable(dataDir, 'ad_impressions')} WHERE impression_id LIKE 'sim-${runId}-%'`,
    );
    return rows[0]!.n as number;
  } catch {
    return 0; // no Parquet file yet
  }
}

describe('adclick simulate', () => {
  let dir: TempDir;
  let runtime: LocalRuntime;

  beforeAll(async () => {
    dir = await tempDir('simulate');
    runtime = await startInProcess(dir.path);
  });

  afterAll(async () => {
    await runtime?.close();
    await dir?.cleanup();
  });

  it('registers the ads, sends predictions, impressions and clicks, and sums them up consistently', async () => {
    // Act
    const run = await adclick([
      'simulate',
      '--server',
      runtime.url,
      '--data-dir',
      dir.path,
      '--requests',
      '200',
      '--fraud',
      '0.05',
      '--run-id',
      'itest',
      '--json',
    ]);

    // Assess
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout);
    expect(summary).toMatchObject({ requests: 200, failed_requests: 0, server_errors: 0, ads_registered: 300 });
    expect(summary.predictions).toBe(800);
    expect(summary.impressions.sent).toBeLessThanOrEqual(summary.predictions);
    expect(summary.impressions.accepted).toBe(summary.impressions.sent);
    expect(summary.clicks.accepted + summary.clicks.duplicate).toBe(summary.clicks.honest + summary.clicks.fraud);
    expect(summary.honest.honest_clicks).toBeLessThanOrEqual(summary.honest.honest_impressions);
    expect(summary.errors).toEqual({});
    const ad = await call(runtime.url, 'GET', '/ads/ad_00001', { token: runtime.adminToken });
    expect(ad.json).toMatchObject({ ad_id: 'ad_00001', campaign_id: 'cmp_0001', advertiser_id: 'adv_001' });
    // Events reach the lake by compaction, within seconds of being acknowledged.
    let inLake = 0;
    for (let i = 0; i < 300 && inLake < summary.impressions.accepted; i++) {
      inLake = await lakeImpressions(dir.path, 'itest');
      if (inLake < summary.impressions.accepted) await new Promise((r) => setTimeout(r, 100));
    }
    expect(inLake).toBe(summary.impressions.accepted);
  });

  it('refuses --requests together with --duration in one line', async () => {
    // Act
    const run = await adclick(['simulate', '--server', runtime.url, '--requests', '10', '--duration', '5']);

    // Assess
    expect(run.code).not.toBe(0);
    expect(run.stderr.trim()).toBe('adclick: give --requests or --duration, not both');
  });

  it('refuses a fraud share that is not a number in range', async () => {
    // Act
    const run = await adclick(['simulate', '--server', runtime.url, '--fraud', '0.9']);

    // Assess
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain("option '--fraud <rate>' argument '0.9' is invalid. expected a number in [0, 0.5]");
  });
});
