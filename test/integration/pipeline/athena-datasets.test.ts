/**
 * The build step's Athena mode writes the same files as the local build from the same lake: the
 * training-set SQL runs on Athena (here DuckDB behind the Athena API, test/support/duckdb-athena.ts,
 * as the analytics contract tests run it) and the same writers turn its rows into the csv and the
 * holdout.
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AthenaQueryRunner } from '../../../lambdas/adapters/aws/athena/athena-query-runner.js';
import { LakeDatabase } from '../../../lambdas/adapters/local/duckdb/lake-database.js';
import { RetrainError } from '../../../lambdas/pipeline/retrain-windows.js';
import { buildDatasets, buildDatasetsOnAthena } from '../../../lambdas/pipeline/steps/build-datasets.js';
import { type DuckDbAthena, duckDbAthena } from '../../support/duckdb-athena.js';
import { fakeTiming } from '../../support/fake-timing.js';
import { writeSimulatedLake } from '../training-set/simulated-lake.js';

const WORKGROUP = 'adclick-dev-analytics';
const DATABASE = 'adclick_dev_lake';
const TRAIN = { from: new Date('2026-11-11T00:00:00Z'), to: new Date('2026-11-11T06:00:00Z') };
const HOLDOUT = { from: TRAIN.to, to: new Date('2026-11-11T09:00:00Z') };
const CUTOFF = new Date('2026-11-12T00:00:00Z');

describe('building the data sets on Athena', () => {
  let work: string;
  let lakeDir: string;
  let db: LakeDatabase;
  let athena: DuckDbAthena;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'adclick-athena-datasets-'));
    lakeDir = join(work, 'lake');
    await writeSimulatedLake({
      lakeDir,
      simulator: { seed: 7 },
      impressions: 9000,
      start: TRAIN.from,
      hours: 9,
      prefix: 't',
    });
    db = await LakeDatabase.open({ lakeDir });
    athena = duckDbAthena(db, { workgroup: WORKGROUP, database: DATABASE });
  }, 120_000);

  afterAll(async () => {
    athena?.restore();
    db?.close();
    await rm(work, { recursive: true, force: true });
  });

  const runner = () =>
    new AthenaQueryRunner(athena.client, {
      workgroup: WORKGROUP,
      database: DATABASE,
      pageSize: 1000,
      poll: { maxTotalMs: 3_600_000 },
      timing: fakeTiming(),
    });

  it('writes the csv and the holdout the local build writes from the same lake, byte for byte', async () => {
    // Prepare
    const local = join(work, 'local');
    const aws = join(work, 'aws');
    await mkdir(local);
    await mkdir(aws);
    const common = { train: TRAIN, holdout: HOLDOUT, cutoff: CUTOFF, negativeRate: 0.5, minRows: 100 };

    // Act
    const onAthena = await buildDatasetsOnAthena({
      ...common,
      runner: runner(),
      workDir: aws,
      trainCsv: join(aws, 'train.csv'),
      holdoutFile: join(aws, 'holdout.jsonl'),
    });
    const onLake = await buildDatasets({
      ...common,
      lakeDir,
      trainCsv: join(local, 'train.csv'),
      holdoutFile: join(local, 'holdout.jsonl'),
    });

    // Assess
    expect(onAthena.train.examples).toBeGreaterThan(100);
    expect({ ...onAthena.train, csv: '' }).toEqual({ ...onLake.train, csv: '' });
    expect({ ...onAthena.holdout, file: '' }).toEqual({ ...onLake.holdout, file: '' });
    expect(onAthena.hyperparameters).toEqual(onLake.hyperparameters);
    expect(await readFile(join(aws, 'train.csv'), 'utf8')).toBe(await readFile(join(local, 'train.csv'), 'utf8'));
    expect(await readFile(join(aws, 'holdout.jsonl'), 'utf8')).toBe(
      await readFile(join(local, 'holdout.jsonl'), 'utf8'),
    );
    expect(athena.executions.length).toBe(2);
  }, 120_000);

  it('stops with the reason when the training range holds too few examples', async () => {
    // Prepare
    const out = join(work, 'few');
    await mkdir(out);

    // Act
    const built = buildDatasetsOnAthena({
      train: TRAIN,
      holdout: HOLDOUT,
      cutoff: CUTOFF,
      minRows: 1_000_000,
      runner: runner(),
      workDir: out,
      trainCsv: join(out, 'train.csv'),
      holdoutFile: join(out, 'holdout.jsonl'),
    });

    // Assess
    await expect(built).rejects.toThrow(RetrainError);
    await expect(built).rejects.toThrow(/fewer than the 1000000 needed/);
  }, 60_000);
});
