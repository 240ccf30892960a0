import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadScorer, simulatedExamples } from '../../../sagemaker/index.js';

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
});
