import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unpackedDir } from '../../../lambdas/adapters/local/artifact-store.js';
import type { LocalRuntime } from '../../../lambdas/server/local-runtime.js';
import { call, startInProcess, type TempDir, tempDir } from '../../support/e2e-server.js';
import { writeSimulatedLake } from '../training-set/simulated-lake.js';
import { adclick, hasStack } from './model-cli.js';

// The bootstrap model learnt a simulated world (seed 1); the lake holds the traffic of another one
// (seed 7): the truth has drifted away from what the champion knows, and a retrain must see it.
const TRAFFIC = { seed: 7 };
const TRAIN_IMPRESSIONS = 60_000;
const HOLDOUT_IMPRESSIONS = 40_000;
const CUTOFF = '2026-11-14T00:00:00Z';

interface Summary {
  rows: { train: number; holdout: number; holdout_positives: number };
  candidate: { logloss: number; calibration: number; auc: number };
  champion: { model_id: string; logloss: number } | null;
  gate: { passed: boolean; reasons: string[] };
  model: { model_id: string; status: string; alias: string | null };
  activation: { activated: boolean; detail: string | null } | null;
  windows: { train: { from: string; to: string } };
  training: { warm_start: boolean; warm_start_from: string | null; fresh_reason: string | null };
}

describe('adclick retrain', () => {
  let dir: TempDir;
  let server: LocalRuntime;
  const retrain = (args: string[]) =>
    adclick(['retrain', '--server', server.url, '--data-dir', dir.path, '--cutoff', CUTOFF, ...args]);
  const activeModel = async () =>
    (await call(server.url, 'GET', '/model/active', { token: server.adminToken })).json as { model_id: string };

  beforeAll(async () => {
    dir = await tempDir('retrain');
    const lakeDir = join(dir.path, 'lake');
    await writeSimulatedLake({
      lakeDir,
      simulator: TRAFFIC,
      impressions: TRAIN_IMPRESSIONS,
      start: new Date('2026-11-11T00:00:00Z'),
      hours: 48,
      prefix: 't',
    });
    await writeSimulatedLake({
      lakeDir,
      simulator: TRAFFIC,
      skip: TRAIN_IMPRESSIONS,
      impressions: HOLDOUT_IMPRESSIONS,
      start: new Date('2026-11-13T00:00:00Z'),
      hours: 12,
      prefix: 'h',
    });
    server = await startInProcess(dir.path);
  }, 180_000);

  afterAll(async () => {
    await server?.close();
    await dir?.cleanup();
  });

  it('retrains on the drifted traffic, beats the bootstrap champion on the later holdout and activates the candidate', async () => {
    // Prepare
    const bootstrap = await activeModel();

    // Act
    const run = await retrain([
      ...['--from', '2026-11-11T00:00:00Z', '--to', '2026-11-13T00:00:00Z', '--holdout-hours', '12'],
      ...['--activate', '--json'],
    ]);

    // Assess
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as Summary;
    expect(summary.champion?.model_id).toBe(bootstrap.model_id);
    expect(summary.rows.holdout).toBe(HOLDOUT_IMPRESSIONS);
    expect(summary.candidate.logloss).toBeLessThan(summary.champion!.logloss);
    expect(summary.gate).toEqual({ passed: true, reasons: [] });
    expect(summary.training).toMatchObject({ warm_start: false, warm_start_from: null, fresh_reason: null });
    expect(summary.activation).toEqual({ activated: true, detail: null });
    expect((await activeModel()).model_id).toBe(summary.model.model_id);
    // The server judges activations on the holdout the retrain built.
    const installed = readFileSync(join(dir.path, 'holdout', 'holdout.jsonl'), 'utf8')
      .trim()
      .split('\n');
    expect(installed).toHaveLength(HOLDOUT_IMPRESSIONS);
    expect(JSON.parse(installed[0]!)).toMatchObject({ features: { device_type: expect.any(String) } });
    expect(run.stderr).toMatch(/\[5\/5 register\] activated/);
  }, 300_000);

  it('registers a candidate trained on one hour of traffic but the gate refuses it and nothing is activated', async () => {
    // Prepare
    const champion = await activeModel();

    // Act
    const run = await retrain([
      ...['--from', '2026-11-12T23:00:00Z', '--to', '2026-11-13T00:00:00Z', '--holdout-hours', '12'],
      ...['--activate', '--json'],
    ]);

    // Assess
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as Summary;
    expect(summary.gate.passed).toBe(false);
    expect(summary.gate.reasons.join(' ')).toMatch(/log loss .* is not lower than the champion's/);
    expect(summary.model).toMatchObject({ status: 'candidate', alias: null });
    expect(summary.activation?.activated).toBe(false);
    expect((await activeModel()).model_id).toBe(champion.model_id);
  }, 300_000);

  it('--warm-start continues from the champion on the hours after its training window, and the registry records it', async () => {
    // Prepare: the champion is the candidate the first test activated, trained on [11-11, 11-13).
    const champion = await activeModel();

    // Act: no --from, so the training range starts where the champion's ended.
    const run = await retrain(['--to', '2026-11-13T06:00:00Z', '--holdout-hours', '6', '--warm-start', '--json']);

    // Assess
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as Summary;
    expect(summary.windows.train).toEqual({ from: '2026-11-13T00:00:00.000Z', to: '2026-11-13T06:00:00.000Z' });
    expect(summary.training).toMatchObject({
      warm_start: true,
      warm_start_from: champion.model_id,
      fresh_reason: null,
    });
    expect(run.stderr).toMatch(/training range starts where the champion's .* ended/);
    const record = (
      await call(server.url, 'GET', `/models/${encodeURIComponent(summary.model.model_id)}`, {
        token: server.adminToken,
      })
    ).json as { metadata: Record<string, unknown> };
    expect(record.metadata).toMatchObject({
      warm_start: true,
      warm_start_from: champion.model_id,
      warm_start_fallback: null,
    });
  }, 300_000);

  it('--warm-start from a champion without optimizer state trains fresh on the whole range, says why and records it', async () => {
    // Prepare: a champion registered before warm starts existed has no optimizer files.
    const champion = (await call(server.url, 'GET', '/model/active', { token: server.adminToken })).json as {
      model_id: string;
      artifact_uri: string;
    };
    await rm(join(unpackedDir(fileURLToPath(champion.artifact_uri)), 'optimizer.json'));

    // Act
    const run = await retrain(['--to', '2026-11-13T06:00:00Z', '--holdout-hours', '6', '--warm-start', '--json']);

    // Assess
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as Summary;
    expect(summary.training).toMatchObject({ warm_start: false, warm_start_from: null });
    expect(summary.training.fresh_reason).toMatch(/no usable optimizer state: it has no optimizer\.json/);
    expect(summary.windows.train.from).toBe('2026-11-06T06:00:00.000Z');
    expect(run.stderr).toMatch(/warm start not possible, trained fresh: /);
    const record = (
      await call(server.url, 'GET', `/models/${encodeURIComponent(summary.model.model_id)}`, {
        token: server.adminToken,
      })
    ).json as { metadata: Record<string, unknown> };
    expect(record.metadata).toMatchObject({ warm_start: false, warm_start_from: null });
    expect(record.metadata.warm_start_fallback).toMatch(/no usable optimizer state/);
  }, 300_000);

  it('refuses --warm-start with --fresh', async () => {
    // Act
    const run = await retrain(['--warm-start', '--fresh']);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/--warm-start.*cannot be used with.*--fresh/);
  });

  it.each([
    [['--experiment', '1.5'], /--experiment.*expected a share of traffic in \(0, 1\)/],
    [['--from', '2026-11-13T00:00:00Z', '--to', '2026-11-12T00:00:00Z'], /--to .* must be after --from/],
    [['--to', '2026-11-13T00:30:00Z'], /--to .* must be a whole hour/],
    [['--to', '2026-11-13T20:00:00Z', '--holdout-hours', '6'], /ends after the last labelled hour/],
    [['--activate', '--experiment', '0.1'], /--activate and --experiment exclude each other/],
    [
      ['--from', '2026-10-01T00:00:00Z', '--to', '2026-10-02T00:00:00Z'],
      /the training range .* holds 0 labelled examples, fewer than the 1000 needed/,
    ],
  ])(
    'refuses %j with a one-line error',
    async (args, message) => {
      // Act
      const run = await retrain(args);

      // Assess
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(message);
      expect(hasStack(run.stderr)).toBe(false);
    },
    120_000,
  );

  it('says which data dir is missing', async () => {
    // Act
    const run = await adclick(['retrain', '--server', server.url, '--data-dir', join(dir.path, 'nope')]);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/--data-dir .*nope: no such directory/);
    expect(existsSync(join(dir.path, 'nope'))).toBe(false);
  });
});
