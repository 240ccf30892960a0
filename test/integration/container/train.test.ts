import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadScorer, packModel, simulatedExamples } from '../../../sagemaker/index.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const roots: string[] = [];

afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

/** A contract csv of simulated traffic: header, `click`, one column per feature. */
function simulatedCsv(seed: number, rows: number): string {
  const examples = [...simulatedExamples({ seed }, 0, rows)];
  const columns = Object.keys(examples[0]!.features);
  const cell = (v: unknown) => (v === null || v === undefined ? '' : String(v));
  const lines = examples.map((e) =>
    [e.label, ...columns.map((c) => cell((e.features as Record<string, unknown>)[c]))].join(','),
  );
  return `${['click', ...columns].join(',')}\n${lines.join('\n')}\n`;
}

/** An /opt/ml tree in a temporary folder, as SageMaker lays it out for a training job. */
function jobRoot(files: { train?: string; validation?: string; hyperparameters?: unknown }): string {
  const root = mkdtempSync(join(tmpdir(), 'adclick-sm-train-'));
  roots.push(root);
  mkdirSync(join(root, 'input/config'), { recursive: true });
  if (files.train !== undefined) {
    mkdirSync(join(root, 'input/data/train'), { recursive: true });
    writeFileSync(join(root, 'input/data/train/train.csv'), files.train);
  }
  if (files.validation !== undefined) {
    mkdirSync(join(root, 'input/data/validation'), { recursive: true });
    writeFileSync(join(root, 'input/data/validation/validation.csv'), files.validation);
  }
  if (files.hyperparameters !== undefined) {
    writeFileSync(join(root, 'input/config/hyperparameters.json'), JSON.stringify(files.hyperparameters));
  }
  return root;
}

function runTrain(root: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'sagemaker/container/entrypoint.ts'), 'train'],
      {
        cwd: ROOT,
        env: { ...process.env, SM_ML_ROOT: root },
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('exit', (code) => done({ code, stdout, stderr }));
  });
}

describe('SageMaker container: train', () => {
  it('trains from the channels with string hyperparameters and writes a loadable model', async () => {
    // Prepare: SageMaker passes every hyperparameter as a string, and adds keys of its own.
    const root = jobRoot({
      train: simulatedCsv(3, 6000),
      validation: simulatedCsv(4, 1500),
      hyperparameters: { bits: '14', passes: '3', factors: '2', refit: 'false', sagemaker_region: '"eu-west-1"' },
    });
    // Act
    const run = await runTrain(root);
    // Assess
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^pass=1 train_logloss=[\d.]+ validation_logloss=[\d.]+$/m);
    expect(run.stdout).toMatch(/^crosses_chosen=(none|[\w&,]+) pairs_screened=\d+$/m);
    const scorer = await loadScorer(join(root, 'model'));
    expect(scorer.manifest.hashing.bits).toBe(14);
    const p = scorer.score({ device_type: 'mobile', position: 1 }).probability;
    expect(p).toBeGreaterThan(0);
    expect(p).toBeLessThan(1);
  }, 60_000);

  it('fails with the file, line and reason in the failure file for a ragged row', async () => {
    // Prepare
    const root = jobRoot({ train: 'click,a,b\n0,x,1\n1,y\n', hyperparameters: {} });
    // Act
    const run = await runTrain(root);
    // Assess
    expect(run.code).toBe(1);
    expect(readFileSync(join(root, 'output/failure'), 'utf8')).toMatch(/train\.csv:3: row has 2 cells/);
  });

  it('fails naming an unknown hyperparameter', async () => {
    // Prepare
    const root = jobRoot({ train: simulatedCsv(5, 200), hyperparameters: { learning_rate: '0.1' } });
    // Act
    const run = await runTrain(root);
    // Assess
    expect(run.code).toBe(1);
    expect(readFileSync(join(root, 'output/failure'), 'utf8')).toContain('unknown hyperparameter learning_rate');
  });

  it('fails naming a hyperparameter that is not a number', async () => {
    const root = jobRoot({ train: simulatedCsv(5, 200), hyperparameters: { bits: 'twenty' } });
    const run = await runTrain(root);
    expect(run.code).toBe(1);
    expect(readFileSync(join(root, 'output/failure'), 'utf8')).toContain('bits must be a number');
  });

  it('fails when the train channel is missing', async () => {
    const root = jobRoot({ hyperparameters: {} });
    const run = await runTrain(root);
    expect(run.code).toBe(1);
    expect(readFileSync(join(root, 'output/failure'), 'utf8')).toMatch(/train channel .* does not exist/);
  });

  it('continues from the model.tar.gz of the warm-start channel when the warm-start hyperparameter says warm', async () => {
    // Prepare: a champion trained by the container itself, packed as a training job packs it.
    const hyperparameters = { bits: '14', passes: '2', factors: '2' };
    const first = jobRoot({ train: simulatedCsv(6, 4000), hyperparameters });
    expect((await runTrain(first)).code).toBe(0);
    const root = jobRoot({
      train: simulatedCsv(7, 4000),
      hyperparameters: { ...hyperparameters, 'warm-start': 'warm' },
    });
    mkdirSync(join(root, 'input/data/warm-start'), { recursive: true });
    writeFileSync(join(root, 'input/data/warm-start/model.tar.gz'), await packModel(join(first, 'model')));

    // Act
    const run = await runTrain(root);

    // Assess
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^warm_start=true warm start from /m);
    const decision = JSON.parse(readFileSync(join(root, 'output/data/warm-start.json'), 'utf8'));
    expect(decision).toMatchObject({ requested: true, used: true, reason: null });
    const scorer = await loadScorer(join(root, 'model'));
    expect((scorer.manifest.metrics as { warm_start: { used: boolean } }).warm_start.used).toBe(true);
  }, 60_000);

  it('trains fresh and writes why when warm is asked for but the warm-start channel holds no model', async () => {
    // Prepare
    const root = jobRoot({
      train: simulatedCsv(8, 2000),
      hyperparameters: { bits: '12', passes: '1', 'warm-start': 'warm' },
    });

    // Act
    const run = await runTrain(root);

    // Assess
    expect(run.code, run.stderr).toBe(0);
    const decision = JSON.parse(readFileSync(join(root, 'output/data/warm-start.json'), 'utf8'));
    expect(decision).toMatchObject({ requested: true, used: false });
    expect(decision.reason).toMatch(/warm-start channel .* holds no model/);
    expect(run.stdout).toMatch(/^warm_start=false fresh: cannot warm start/m);
  }, 60_000);

  it('leaves the warm-start channel unread when the warm-start hyperparameter says fresh', async () => {
    // Prepare: a channel that would fail to load if it were read.
    const root = jobRoot({
      train: simulatedCsv(9, 2000),
      hyperparameters: { bits: '12', passes: '1', 'warm-start': 'fresh' },
    });
    mkdirSync(join(root, 'input/data/warm-start'), { recursive: true });
    writeFileSync(join(root, 'input/data/warm-start/model.tar.gz'), 'not a tar.gz');

    // Act
    const run = await runTrain(root);

    // Assess
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(root, 'output/data/warm-start.json'), 'utf8'))).toMatchObject({
      requested: false,
      used: false,
    });
  }, 60_000);

  it('fails naming the values a warm-start hyperparameter may take', async () => {
    const root = jobRoot({ train: simulatedCsv(5, 200), hyperparameters: { 'warm-start': 'sometimes' } });
    const run = await runTrain(root);
    expect(run.code).toBe(1);
    expect(readFileSync(join(root, 'output/failure'), 'utf8')).toContain('warm-start must be warm or fresh');
  });
});
