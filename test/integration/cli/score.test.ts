import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adclick, clickRows, hasStack, writeCriteo, writeCsv } from './model-cli.js';

const ROOT = resolve(import.meta.dirname, '../../..');

function probabilities(text: string): number[] {
  return text
    .trimEnd()
    .split('\n')
    .map((line) => Number(line));
}

describe('adclick score', () => {
  const work = mkdtempSync(join(tmpdir(), 'adclick-score-'));
  const rows = clickRows(2500, 11);
  const test = clickRows(400, 12);
  let model: string;
  let testCsv: string;

  beforeAll(async () => {
    model = join(work, 'model');
    const run = await adclick(['train', '--data', writeCsv(join(work, 'train.csv'), rows), '--out', model]);
    if (run.code !== 0) throw new Error(run.stderr);
    testCsv = writeCsv(join(work, 'test.csv'), test);
  });

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('writes one probability a line, one line a row', async () => {
    // Act
    const out = join(work, 'preds.txt');
    const run = await adclick(['score', '--model', model, '--data', testCsv, '--out', out]);

    // Assess
    expect(run.code, run.stderr).toBe(0);
    const p = probabilities(readFileSync(out, 'utf8'));
    expect(p).toHaveLength(test.length);
    for (const x of p) expect(x > 0 && x < 1).toBe(true);
    expect(new Set(p).size).toBeGreaterThan(10);
    expect(run.stderr).toMatch(/scored 400 rows/);
  });

  it('keeps the input order: the rows reversed give the predictions reversed', async () => {
    // Prepare
    const reversed = writeCsv(join(work, 'reversed.csv'), [...test].reverse());

    // Act
    const forward = await adclick(['score', '--model', model, '--data', testCsv, '--out', '-']);
    const backward = await adclick(['score', '--model', model, '--data', reversed, '--out', '-']);

    // Assess
    expect(forward.code, forward.stderr).toBe(0);
    expect(probabilities(backward.stdout)).toEqual(probabilities(forward.stdout).reverse());
  });

  it('types columns as at training: a numeric column holding text is scored, with a warning', async () => {
    // Prepare: `price` was numeric at training; here one cell is text, and `click` is absent.
    const path = join(work, 'odd.csv');
    writeFileSync(path, 'site,device,price,zip\nnews.example,mobile,12.5,10001\nnews.example,mobile,n/a,10001\n');

    // Act
    const run = await adclick(['score', '--model', model, '--data', path, '--out', '-']);

    // Assess
    expect(run.code, run.stderr).toBe(0);
    expect(probabilities(run.stdout)).toHaveLength(2);
    expect(run.stderr).toMatch(/1 cells of numeric columns are not numbers .*odd\.csv:3: column price holds "n\/a"/);
  });

  it("warns about the model's fields that the file lacks", async () => {
    // Prepare
    const path = join(work, 'narrow.csv');
    writeFileSync(path, 'site\nnews.example\n');

    // Act
    const run = await adclick(['score', '--model', model, '--data', path, '--out', '-']);

    // Assess
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/lacks 3 of the model's 4 fields.*device, price, zip/);
  });

  it('scores criteo rows without a label, in the format the model was trained from', async () => {
    // Prepare
    const criteoModel = join(work, 'criteo-model');
    const trained = await adclick([
      'train',
      ...['--data', writeCriteo(join(work, 'train.txt'), rows), '--format', 'criteo', '--out', criteoModel],
    ]);
    const unlabelled = writeCriteo(join(work, 'test.txt'), test, false);

    // Act: no --format: the model records criteo.
    const run = await adclick(['score', '--model', criteoModel, '--data', unlabelled, '--out', '-']);

    // Assess
    expect(trained.code, trained.stderr).toBe(0);
    expect(run.code, run.stderr).toBe(0);
    expect(probabilities(run.stdout)).toHaveLength(test.length);
  });

  it('leaves no partial predictions file when a row is bad', async () => {
    // Prepare
    const bad = join(work, 'ragged.csv');
    writeFileSync(bad, 'site,device,price,zip\nnews.example,mobile,1,10001\nnews.example\n');
    const out = join(work, 'never.txt');

    // Act
    const run = await adclick(['score', '--model', model, '--data', bad, '--out', out]);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/ragged\.csv:3: row has 1 cells, the header has 4/);
    expect(hasStack(run.stderr)).toBe(false);
    expect(() => readFileSync(out)).toThrow();
  });

  it('stops quietly when the reader of stdout goes away (`--out - | head`)', async () => {
    // Prepare: a reader that closes the pipe before reading anything.
    const child = spawn(
      process.execPath,
      [join(ROOT, 'bin/adclick.js'), 'score', '--model', model, '--data', testCsv, '--out', '-'],
      {
        cwd: ROOT,
      },
    );
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    // Act
    const code = await new Promise<number | null>((done) => child.on('close', done));
    // Assess
    expect(code, stderr).toBe(0);
    expect(hasStack(stderr)).toBe(false);
  });

  it('fails cleanly when the model folder is not a model', async () => {
    // Act
    const run = await adclick(['score', '--model', join(work, 'missing'), '--data', testCsv, '--out', '-']);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^adclick: .*model\.json/m);
  });
});
