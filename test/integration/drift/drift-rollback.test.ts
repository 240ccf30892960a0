/**
 * The drift monitor over the real local adapters: DuckDB analytics on a Parquet lake, the SQLite
 * registry and experiments. The champion's predictions say 3 % where users click 2 % of the time
 * (calibration 1.5): it is rolled back, and the event is on both models as GET /models lists them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDbAnalytics } from '../../../lambdas/adapters/local/duckdb/duckdb-analytics.js';
import { LakeDatabase } from '../../../lambdas/adapters/local/duckdb/lake-database.js';
import type { LakeRecord } from '../../../lambdas/adapters/local/lake/parquet-writer.js';
import { openDatabase, type Sqlite } from '../../../lambdas/adapters/local/sqlite/database.js';
import { SqliteExperimentStore } from '../../../lambdas/adapters/local/sqlite/experiment-store.js';
import { SqliteModelRegistry } from '../../../lambdas/adapters/local/sqlite/model-registry.js';
import type { GateReport } from '../../../lambdas/core/schemas/models.js';
import { DriftMonitor } from '../../../lambdas/core/usecases/drift.js';
import { modelRecord, RecordingLogger, SettableClock } from '../../support/memory-ports.js';
import { click, impression, prediction, writeRows } from '../analytics/fixture-lake.js';

const START = new Date('2026-11-02T10:00:00Z');
const IMPRESSIONS = 2_000;
const CLICK_EVERY = 50; // 2 % observed
const PREDICTED = 0.03;

const gate: GateReport = {
  passed: true,
  reasons: [],
  holdout: 'holdout',
  candidate: { rows: 50_000, positives: 1_000, logloss: 0.1, calibration: 1, auc: 0.75, segments: [] },
  champion: null,
};

let root: string;
let lake: LakeDatabase;
let sqlite: Sqlite;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'drift-'));
  const lakeDir = join(root, 'lake');
  const impressions: LakeRecord[] = [];
  const predictions: LakeRecord[] = [];
  const clicks: LakeRecord[] = [];
  for (let i = 0; i < IMPRESSIONS; i++) {
    const time = new Date(START.getTime() + i * 1_000);
    predictions.push(
      prediction(`p${i}`, PREDICTED, new Date(time.getTime() - 1_000), { version: 'v-new', variant: 'champion' }),
    );
    impressions.push(impression({ id: `i${i}`, user: `u${i % 97}`, ad: `ad-${i % 7}`, time, prediction: `p${i}` }));
    if (i % CLICK_EVERY === 0) clicks.push(click(`c${i}`, `i${i}`, new Date(time.getTime() + 5_000)));
  }
  await writeRows(lakeDir, 'model_predictions', predictions);
  await writeRows(lakeDir, 'ad_impressions', impressions);
  await writeRows(lakeDir, 'clicks', clicks);
  lake = await LakeDatabase.open({ lakeDir });
  sqlite = openDatabase(join(root, 'adclick.sqlite'));
});

afterAll(async () => {
  lake?.close();
  sqlite?.close();
  await rm(root, { recursive: true, force: true });
});

describe('drift protection over the local adapters', () => {
  it('rolls back a champion whose online calibration on the lake is 1.5, and GET /models shows it', async () => {
    // Prepare
    const registry = new SqliteModelRegistry(sqlite);
    await registry.create(modelRecord({ model_id: 'm_old', version: 'v-old', gate }));
    await registry.create(modelRecord({ model_id: 'm_new', version: 'v-new', gate }));
    await registry.promote('m_old', new Date('2026-11-01T00:00:00Z'), null);
    await registry.promote('m_new', new Date('2026-11-02T00:00:00Z'), null);
    const monitor = new DriftMonitor(
      {
        models: registry,
        experiments: new SqliteExperimentStore(sqlite),
        analytics: new DuckDbAnalytics(lake),
        clock: new SettableClock(new Date('2026-11-02T13:00:00Z')),
        logger: new RecordingLogger(),
      },
      { minImpressions: 1_000, minClicks: 30 },
    );

    // Act
    const report = await monitor.check();

    // Assess
    expect(report.checks).toMatchObject([
      {
        model_id: 'm_new',
        verdict: 'drifted',
        metrics: { impressions: IMPRESSIONS, clicks: IMPRESSIONS / CLICK_EVERY },
      },
    ]);
    expect(report.checks[0]!.metrics.calibration).toBeCloseTo(1.5, 9);
    expect((await registry.champion())?.model_id).toBe('m_old');
    const listed = await registry.list();
    const byId = new Map(listed.map((m) => [m.model_id, m]));
    expect(byId.get('m_new')).toMatchObject({ status: 'retired', drift_events: [{ kind: 'rolled_back' }] });
    expect(byId.get('m_old')?.drift_events).toEqual(byId.get('m_new')?.drift_events);
  });
});
