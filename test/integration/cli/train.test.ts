import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HYPERPARAMETER_FLAGS } from '../../../bin/commands/train.js';
import { parityRows } from '../../unit/model/parity-rows.js';
import { adclick, clickRows, hasStack, writeCriteo, writeCsv } from './model-cli.js';

describe('adclick train', () => {
  const work = mkdtempSync(join(tmpdir(), 'adclick-train-'));
  let train: string;
  let valid: string;

  beforeAll(() => {
    train = writeCsv(join(work, 'train.csv'), clickRows(3000, 1));
    valid = writeCsv(join(work, 'valid.csv'), clickRows(1000, 2));
  });

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('trains on a csv with a validation file and prints a JSON summary', async () => {
    // Act
    const out = join(work, 'model-valid');
    const run = await adclick(['train', '--data', train, '--valid', valid, '--out', out, '--json', '--passes', '4']);

    // Assess
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout);
    expect(summary).toMatchObject({ rows: 3000, format: 'csv', validation: { source: 'file', rows: 1000 } });
    expect(summary.columns).toEqual({ numeric: ['price', 'zip'], categorical: ['site', 'device'] });
    expect(summary.history.length).toBeGreaterThanOrEqual(1);
    for (const pass of summary.history) expect(pass.validation_logloss).toBeGreaterThan(0);
    expect(summary.examples_per_second).toBeGreaterThan(0);
    expect(summary.seconds).toBeGreaterThanOrEqual(summary.train_seconds);
    expect(existsSync(join(out, 'model.json'))).toBe(true);
    expect(run.stderr).toMatch(/train\.csv: 3000 rows/);
  });

  it('says which crosses it chose on the training rows and what the held-out rows decided', async () => {
    // Prepare: a planted interaction between group and category, and a field that carries nothing.
    const rows = parityRows(3, 4_000, { main: 0.3, extra: (rng) => ({ noise: `n${rng.int(8)}` }) });
    const data = join(work, 'parity.csv');
    writeFileSync(
      data,
      `group,category,noise,click\n${rows.map((r) => `${r.features.group},${r.features.category},${r.features.noise},${r.label}`).join('\n')}\n`,
    );
    const out = join(work, 'model-crosses');

    // Act
    const human = await adclick(['train', '--data', data, '--out', out, '--factors', '0']);
    const json = await adclick(['train', '--data', data, '--out', out, '--factors', '0', '--json']);

    // Assess
    expect(human.code, human.stderr).toBe(0);
    expect(human.stderr).toMatch(
      /crosses: 3 pairs screened \(learned on \d+ training rows, chosen on \d+\), chose group × category/,
    );
    expect(human.stderr).toMatch(
      /crosses kept on 400 held-out rows: log-loss gain \+0\.\d{5} ± 0\.\d{5} \(at least 2 standard errors above 0\)/,
    );
    const summary = JSON.parse(json.stdout);
    expect(summary.crosses).toMatchObject({
      selection: 'screened',
      crosses: ['group&category'],
      decision: { kept: true },
    });
  });

  it('records the column typing, overrides included, in the model', async () => {
    // Act
    const out = join(work, 'model-override');
    const run = await adclick(['train', '--data', train, '--out', out, '--categorical', 'zip', '--no-valid']);

    // Assess
    expect(run.code, run.stderr).toBe(0);
    const manifest = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
    expect(manifest.metadata).toMatchObject({
      data_format: 'csv',
      'column_type.zip': 'categorical',
      'column_type.price': 'numeric',
      'column_type.site': 'categorical',
    });
    expect(manifest.fields).toEqual(['site', 'device', 'price', 'zip']);
  });

  it('maps the hyperparameter flags onto the trainer', async () => {
    // Act
    const out = join(work, 'model-flags');
    const run = await adclick([
      'train',
      ...['--data', train, '--out', out, '--json', '--no-valid'],
      ...['--bits', '12', '--factors', '0', '--passes', '2', '--alpha', '0.2', '--l1', '0.5', '--seed', '9'],
    ]);

    // Assess
    expect(run.code, run.stderr).toBe(0);
    const manifest = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
    expect(manifest.hashing.bits).toBe(12);
    expect(manifest.factor_dim).toBe(0);
    expect(manifest.hyperparameters).toMatchObject({ alpha: 0.2, l1: 0.5, max_passes: 2, sampling_seed: 9 });
    expect(JSON.parse(run.stdout).passes).toBe(2);
  });

  it('trains from a criteo file', async () => {
    // Prepare
    const data = writeCriteo(join(work, 'train.txt'), clickRows(1500, 3));

    // Act
    const out = join(work, 'model-criteo');
    const run = await adclick(['train', '--data', data, '--format', 'criteo', '--out', out, '--json']);

    // Assess
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ rows: 1500, format: 'criteo' });
    const manifest = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
    expect(manifest.metadata).toMatchObject({
      data_format: 'criteo',
      'column_type.I1': 'numeric',
      'column_type.C1': 'categorical',
    });
  });

  it('explains every option in --help', async () => {
    // Act
    const run = await adclick(['train', '--help']);

    // Assess
    expect(run.code).toBe(0);
    for (const flag of [
      '--data',
      '--format',
      '--valid',
      '--no-valid',
      '--out',
      '--categorical',
      '--numeric',
      '--json',
    ]) {
      expect(run.stdout).toContain(flag);
    }
    for (const { flags } of HYPERPARAMETER_FLAGS) expect(run.stdout).toContain(flags.split(' ')[0]);
  });

  it.each([
    ['a ragged row', 'click,a,b\n1,x,y\n0,x\n', [], /bad\.csv:3: row has 2 cells, the header has 3/],
    ['no click column', 'label,a\n1,x\n', [], /bad\.csv:1: no 'click' column in the header/],
    ['a label that is not 0/1', 'click,a\n1,x\nyes,y\n', [], /bad\.csv:3: label 'click' must be 0 or 1, got "yes"/],
    ['an unterminated quote', 'click,a\n1,"x\n0,y\n', [], /bad\.csv:2: unterminated quote in cell 2/],
    [
      '--numeric on a non-number',
      'click,a\n1,5\n0,x\n',
      ['--numeric', 'a'],
      /bad\.csv:3: --numeric a: cell "x" is not a finite number/,
    ],
    ['an empty file', '', [], /bad\.csv: empty file/],
  ])('fails on %s with the file, the line and the reason, exit 1 and no stack', async (_what, text, extra, message) => {
    // Prepare
    const bad = join(work, 'bad.csv');
    writeFileSync(bad, text);

    // Act
    const run = await adclick(['train', '--data', bad, '--out', join(work, 'never'), ...extra]);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toMatch(/^adclick: /);
    expect(hasStack(run.stderr)).toBe(false);
    expect(existsSync(join(work, 'never'))).toBe(false);
  });

  it('refuses a --data file that does not exist', async () => {
    // Act
    const run = await adclick(['train', '--data', join(work, 'nope.csv'), '--out', join(work, 'never')]);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/--data .*nope\.csv: no such file/);
  });
});
