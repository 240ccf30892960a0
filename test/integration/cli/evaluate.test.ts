import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluate, reliabilityDiagram } from '../../../sagemaker/model/metrics.js';
import { adclick, clickRows, hasStack, writeCsv } from './model-cli.js';

describe('adclick evaluate', () => {
  const work = mkdtempSync(join(tmpdir(), 'adclick-evaluate-'));
  const test = clickRows(800, 22);
  let model: string;
  let testCsv: string;

  beforeAll(async () => {
    model = join(work, 'model');
    const run = await adclick([
      'train',
      '--data',
      writeCsv(join(work, 'train.csv'), clickRows(3000, 21)),
      '--out',
      model,
    ]);
    if (run.code !== 0) throw new Error(run.stderr);
    testCsv = writeCsv(join(work, 'test.csv'), test);
  });

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('prints the metrics of the predictions that score writes, number for number', async () => {
    // Prepare
    const preds = join(work, 'preds.txt');
    const scored = await adclick(['score', '--model', model, '--data', testCsv, '--out', preds]);
    const p = readFileSync(preds, 'utf8').trimEnd().split('\n').map(Number);
    const y = test.map((r) => r.click);

    // Act
    const run = await adclick(['evaluate', '--model', model, '--data', testCsv]);

    // Assess
    expect(scored.code, scored.stderr).toBe(0);
    expect(run.code, run.stderr).toBe(0);
    const metrics = JSON.parse(run.stdout);
    const expected = evaluate(p, y);
    expect(metrics).toMatchObject({
      rows: 800,
      positives: expected.positives,
      ctr: expected.observed_rate,
      logloss: expected.logloss,
      auc: expected.auc,
      ne: expected.normalized_entropy,
      calibration: expected.calibration,
      mean_pred: expected.mean_prediction,
    });
    expect(metrics.reliability.bins).toEqual(reliabilityDiagram(p, y, { bins: 10 }));
  });

  it('learns the signal in the generated rows: AUC well above chance', async () => {
    // Act
    const run = await adclick(['evaluate', '--model', model, '--data', testCsv]);

    // Assess
    expect(run.code, run.stderr).toBe(0);
    const metrics = JSON.parse(run.stdout);
    expect(metrics.auc).toBeGreaterThan(0.65);
    expect(metrics.ne).toBeLessThan(1);
    expect(metrics.calibration).toBeGreaterThan(0.7);
    expect(metrics.calibration).toBeLessThan(1.3);
  });

  it('draws uniform reliability bins when asked', async () => {
    // Act
    const run = await adclick([
      'evaluate',
      '--model',
      model,
      '--data',
      testCsv,
      '--reliability',
      'uniform',
      '--bins',
      '5',
    ]);

    // Assess
    expect(run.code, run.stderr).toBe(0);
    const { reliability } = JSON.parse(run.stdout);
    expect(reliability.strategy).toBe('uniform');
    for (const bin of reliability.bins) expect((bin.upper - bin.lower) * 5).toBeCloseTo(1, 12);
  });

  it('refuses a file without labels', async () => {
    // Prepare
    const unlabelled = join(work, 'unlabelled.csv');
    writeFileSync(unlabelled, 'site,device,price,zip\nnews.example,mobile,1,10001\n');

    // Act
    const run = await adclick(['evaluate', '--model', model, '--data', unlabelled]);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/unlabelled\.csv:1: no 'click' column in the header/);
    expect(hasStack(run.stderr)).toBe(false);
  });
});
