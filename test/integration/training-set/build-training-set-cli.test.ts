import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adclick, hasStack } from '../cli/model-cli.js';
import { writeSimulatedLake } from './simulated-lake.js';

describe('adclick build-training-set', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'adclick-build-training-set-'));
  const range = ['--from', '2026-11-11', '--to', '2026-11-11T12:00:00Z', '--cutoff', '2026-11-12T00:00:00Z'];

  beforeAll(async () => {
    await writeSimulatedLake({
      lakeDir: join(dataDir, 'lake'),
      simulator: { seed: 3, users: 500, ads: 40, sites: 10 },
      impressions: 6000,
      start: new Date('2026-11-11T00:00:00Z'),
      hours: 12,
      prefix: 'a',
    });
  });

  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('builds a csv that adclick train accepts, with the arguments that tell it the down-sampling', async () => {
    // Prepare
    const csv = join(dataDir, 'out', 'train.csv');
    const model = join(dataDir, 'model');

    // Act
    const build = await adclick([
      'build-training-set',
      ...range,
      ...['--negative-rate', '0.5', '--out', csv, '--data-dir', dataDir, '--json'],
    ]);
    const summary = JSON.parse(build.stdout);
    const train = await adclick([
      'train',
      ...['--data', csv, ...summary.train_args, '--out', model],
      ...['--json', '--no-progress', '--bits', '14', '--passes', '3'],
    ]);

    // Assess
    expect(build.code, build.stderr).toBe(0);
    expect(summary).toMatchObject({
      from: '2026-11-11T00:00:00.000Z',
      to: '2026-11-11T12:00:00.000Z',
      labelled_until: '2026-11-11T12:00:00.000Z',
      window_seconds: 3600,
      negative_rate: 0.5,
      csv: {
        path: csv,
        columns: [
          'ad_id',
          'advertiser_id',
          'campaign_id',
          'category',
          'device_type',
          'location',
          'position',
          'site_id',
        ],
      },
      train_args: [
        '--data-negative-rate',
        '0.5',
        '--categorical',
        'ad_id,advertiser_id,campaign_id,category,device_type,location,site_id',
      ],
    });
    expect(summary.examples).toBe(summary.positives + summary.negatives);
    expect(summary.negatives).toBeGreaterThan(0.4 * (6000 - summary.positives));
    expect(summary.negatives).toBeLessThan(0.6 * (6000 - summary.positives));
    expect(summary.lake.files).toBeGreaterThan(0);
    expect(readFileSync(csv, 'utf8').split('\n')[0]).toBe(
      'ad_id,advertiser_id,campaign_id,category,device_type,location,position,site_id,click',
    );
    expect(train.code, train.stderr).toBe(0);
    expect(JSON.parse(train.stdout)).toMatchObject({ rows: summary.examples, positives: summary.positives });
    const manifest = JSON.parse(readFileSync(join(model, 'model.json'), 'utf8'));
    expect(manifest.negative_sampling_rate).toBe(0.5);
    expect(manifest.metadata['column_type.position']).toBe('numeric');
  });

  it('prints a summary and the train command to run', async () => {
    // Act
    const run = await adclick([
      'build-training-set',
      ...range,
      ...['--negative-rate', '0.25', '--out', join(dataDir, 'human.csv'), '--data-dir', dataDir],
    ]);

    // Assess
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^examples \d+: \d+ positives, \d+ negatives$/m);
    expect(run.stdout).toContain(
      `train with: adclick train --data ${join(dataDir, 'human.csv')} --data-negative-rate 0.25`,
    );
  });

  it('says which hours it could not label yet', async () => {
    // Act
    const run = await adclick([
      'build-training-set',
      ...['--from', '2026-11-11', '--to', '2026-11-11T12:00:00Z', '--cutoff', '2026-11-11T07:30:00Z'],
      ...['--data-dir', dataDir, '--json'],
    ]);

    // Assess
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).labelled_until).toBe('2026-11-11T06:00:00.000Z');
    expect(run.stderr).toContain('the impressions from 2026-11-11T06:00:00.000Z on were left out');
  });

  it('refuses bad options with one line naming them, and writes nothing', async () => {
    // Act
    const [half, rate, notTime, noDir] = await Promise.all([
      adclick([
        'build-training-set',
        '--from',
        '2026-11-11T00:30:00Z',
        '--to',
        '2026-11-11T12:00:00Z',
        '--data-dir',
        dataDir,
      ]),
      adclick(['build-training-set', ...range, '--negative-rate', '2', '--data-dir', dataDir]),
      adclick(['build-training-set', '--from', 'monday', '--to', '2026-11-11T12:00:00Z']),
      adclick(['build-training-set', ...range, '--data-dir', join(dataDir, 'missing')]),
    ]);

    // Assess
    expect(half.code).toBe(1);
    expect(half.stderr).toBe('adclick: --from must be a whole hour (UTC), e.g. 2026-12-01T10:00Z\n');
    expect(rate.code).toBe(1);
    expect(rate.stderr).toMatch(/--negative-rate must be in \(0, 1\]/);
    expect(notTime.code).toBe(1);
    expect(notTime.stderr).toMatch(/--from <time>' argument 'monday' is invalid/);
    expect(noDir.code).toBe(1);
    expect(noDir.stderr).toMatch(/--data-dir .*missing: no such directory/);
    for (const run of [half, rate, notTime, noDir]) expect(hasStack(run.stderr)).toBe(false);
    expect(existsSync(join(dataDir, 'missing'))).toBe(false);
  });
});
