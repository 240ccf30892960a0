/**
 * The model latency of each prediction and its exploration bonus travel from the predict use case
 * through the prediction log (SQLite, DynamoDB item, dead-letter message) into the lake's
 * model_predictions, and come out of GET /analytics/models as serving and exploration figures,
 * also over Parquet files written before the latency column existed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lakeRowOfItem } from '../../../lambdas/adapters/aws/dynamodb/prediction-item.js';
import { toPredictionItem } from '../../../lambdas/adapters/aws/dynamodb/prediction-log.js';
import {
  decodePredictionMessage,
  packPredictionMessages,
} from '../../../lambdas/adapters/aws/sqs/prediction-log-message.js';
import { DuckDbAnalytics } from '../../../lambdas/adapters/local/duckdb/duckdb-analytics.js';
import { LakeDatabase } from '../../../lambdas/adapters/local/duckdb/lake-database.js';
import { partitionDir } from '../../../lambdas/adapters/local/lake/partitions.js';
import { closeExportConnections, exportPredictions } from '../../../lambdas/adapters/local/lake/prediction-export.js';
import { openDatabase } from '../../../lambdas/adapters/local/sqlite/database.js';
import { SqlitePredictionLog } from '../../../lambdas/adapters/local/sqlite/prediction-log.js';
import type { ModelEndpoint, PredictionCache, PredictionRecord, ScoreResult } from '../../../lambdas/core/ports.js';
import { modelMetrics } from '../../../lambdas/core/usecases/analytics.js';
import { DEFAULT_CORE_CONFIG } from '../../../lambdas/core/usecases/deps.js';
import { queryDuckDb } from '../../support/duckdb.js';
import { CHAMPION_VERSION, makeApp, T0 } from '../../support/memory-ports.js';
import { impression, writeRows } from '../analytics/fixture-lake.js';
import { prediction } from '../aws/sqs/dead-letter-fixtures.js';
import { lakeTable } from '../event-log/lake-helpers.js';

const HOUR = 3_600_000;
const range = { from: T0, to: new Date(T0.getTime() + HOUR) };

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'adclick-serving-'));
});

afterEach(() => {
  closeExportConnections();
  rmSync(dir, { recursive: true, force: true });
});

/** Wraps an endpoint so that every call takes at least `ms`. */
function slowed(endpoint: ModelEndpoint, ms: number): ModelEndpoint {
  return {
    score: async (...args) => {
      await new Promise((resolve) => setTimeout(resolve, ms));
      return endpoint.score(...args);
    },
  };
}

/** Hits for every key: each score comes from the cache, none from the model. */
const everythingCached: PredictionCache = {
  getMany: async (keys) => keys.map((): ScoreResult => ({ probability: 0.25 })),
  setMany: async () => undefined,
};

/** The records into SQLite, exported to the lake as the local server does. */
async function logAndExport(records: readonly PredictionRecord[]): Promise<string> {
  const dbFile = join(dir, 'adclick.sqlite');
  const db = openDatabase(dbFile);
  await new SqlitePredictionLog(db).putAll(records);
  db.close();
  const lakeDir = join(dir, 'lake');
  await exportPredictions(dbFile, lakeDir, 0, 10_000);
  return lakeDir;
}

describe('the model latency of a prediction', () => {
  it('is the time of the model call, one value for every row of a batch', async () => {
    // Prepare
    const { app, ports } = makeApp();
    const { app: slow, ports: slowPorts } = makeApp({ model: slowed(ports.model, 20) });

    // Act
    await slow.predict.predictBatch({ user_id: 'u1', ads: [{ ad_id: 'a1' }, { ad_id: 'a2' }, { ad_id: 'a3' }] });
    await app.predict.predict({ user_id: 'u1', ad_id: 'a1' });

    // Assess
    const latencies = slowPorts.predictions.all().map((r) => r.model_latency_ms);
    expect(new Set(latencies).size).toBe(1);
    expect(latencies[0]).toBeGreaterThanOrEqual(19);
    expect(ports.predictions.all()[0]!.model_latency_ms).toBeGreaterThanOrEqual(0);
  });

  it('is null for a score served by the prediction cache: no model call was made', async () => {
    // Prepare
    const { app, ports } = makeApp({ predictionCache: everythingCached });

    // Act
    await app.predict.predict({ user_id: 'u1', ad_id: 'a1' });

    // Assess
    expect(ports.model.calls).toHaveLength(0);
    expect(ports.predictions.all()[0]!.model_latency_ms).toBeNull();
  });

  it('is exported from the SQLite log to model_predictions, null where none was measured', async () => {
    // Act
    const lakeDir = await logAndExport([
      prediction('p1', { model_latency_ms: 12.345 }),
      prediction('p2', { model_latency_ms: null }),
    ]);

    // Assess
    const rows = await queryDuckDb(
      `SELECT prediction_id, model_latency_ms FROM ${lakeTable(lakeDir, 'model_predictions')} ORDER BY 1`,
    );
    expect(rows).toEqual([
      { prediction_id: 'p1', model_latency_ms: 12.345 },
      { prediction_id: 'p2', model_latency_ms: null },
    ]);
  });

  it('adds the column to a prediction log created before it, its old rows null', async () => {
    // Prepare: a database at the schema version before the latency column, holding one prediction
    const dbFile = join(dir, 'old.sqlite');
    openDatabase(dbFile).close();
    const raw = new Database(dbFile);
    raw.exec('ALTER TABLE predictions DROP COLUMN model_latency_ms');
    // Later migrations' tables go too, as they did not exist at that version.
    raw.exec('DROP TABLE erasures');
    raw.pragma('user_version = 2');
    raw
      .prepare(
        `INSERT INTO predictions (prediction_id, request_id, user_id, ad_id, probability, model_id, model_version,
           variant, experiment_id, fallback, consent, features, explanation, ts, exploration_bonus)
         VALUES ('old', NULL, 'u', 'ad-1', 0.1, 'm', 'v', 'champion', NULL, 0, 1, '{}', NULL, 0, NULL)`,
      )
      .run();
    raw.close();

    // Act
    const db = openDatabase(dbFile);
    const [old] = await new SqlitePredictionLog(db).getMany(['old']);
    db.close();

    // Assess
    expect(old?.model_latency_ms).toBeNull();
  });

  it('goes from a DynamoDB item to its lake row, an item written before it reading null', () => {
    // Prepare
    const item = toPredictionItem(prediction('p1', { model_latency_ms: 7.5 }));
    const { model_latency_ms: _, ...older } = item;

    // Act
    const fresh = lakeRowOfItem({ ...item });
    const before = lakeRowOfItem(older);
    const negative = lakeRowOfItem({ ...item, model_latency_ms: -1 });

    // Assess
    expect(fresh).toMatchObject({ ok: true, row: { model_latency_ms: 7.5 } });
    expect(before).toMatchObject({ ok: true, row: { model_latency_ms: null } });
    expect(negative.ok).toBe(false);
  });

  it('survives a dead-letter message, a message parked before it reading null', () => {
    // Prepare
    const record = prediction('p1', { model_latency_ms: 3.25 });
    const [body] = packPredictionMessages([record]).bodies;
    const olderBody = body!.replace(',"model_latency_ms":3.25', '');

    // Act
    const decoded = decodePredictionMessage(body!);
    const older = decodePredictionMessage(olderBody);

    // Assess
    expect(older.ok && olderBody !== body).toBe(true);
    expect(decoded).toEqual({ ok: true, records: [record] });
    expect(older).toMatchObject({ ok: true, records: [{ model_latency_ms: null }] });
  });
});

describe('serving and exploration figures from the lake', () => {
  it('shows explored predictions, their impressions and the model latency when exploration is on', async () => {
    // Prepare: every prediction may explore and every ad is new to the model; two of the three
    // predicted ads are shown, the first is clicked.
    const { app, ports } = makeApp({}, { config: { exploration: { ...DEFAULT_CORE_CONFIG.exploration, budget: 1 } } });
    const shown = await app.predict.predictBatch({
      user_id: 'u1',
      ads: [{ ad_id: 'a1' }, { ad_id: 'a2' }, { ad_id: 'a3' }],
    });
    const lakeDir = await logAndExport(ports.predictions.all());
    const at = new Date(T0.getTime() + 1_000);
    await writeRows(lakeDir, 'ad_impressions', [
      impression({ id: 'i1', user: 'u1', ad: 'a1', time: at, prediction: shown[0]!.prediction_id }),
      impression({ id: 'i2', user: 'u1', ad: 'a2', time: at, prediction: shown[1]!.prediction_id }),
    ]);
    await writeRows(lakeDir, 'clicks', [
      {
        click_id: 'c1',
        impression_id: 'i1',
        user_id: null,
        ip: null,
        clicked: true,
        timestamp: new Date(at.getTime() + 5_000),
        received_at: new Date(at.getTime() + 5_100),
      },
    ]);
    const db = await LakeDatabase.open({ lakeDir });

    // Act
    const { rows } = await new DuckDbAnalytics(db, { rollup: false }).models({
      ...range,
      limit: 10,
      attributionWindowSeconds: 3_600,
    });
    db.close();

    // Assess
    const [champion] = modelMetrics(rows);
    expect(champion).toMatchObject({
      model_version: CHAMPION_VERSION,
      serving: { predictions: 3, fallback_predictions: 0, fallback_rate: 0, timed_predictions: 3 },
      exploration: {
        predictions: 3,
        share: 1,
        explored: { impressions: 2, clicks: 1, ctr: 0.5 },
        not_explored: { impressions: 0, clicks: 0, ctr: null },
      },
    });
    expect(champion!.exploration.mean_bonus).toBeGreaterThan(0);
    expect(champion!.serving.latency_p99_ms).toBeGreaterThanOrEqual(0);
  });

  it('reads Parquet files written before the latency column as untimed predictions', async () => {
    // Prepare: a model_predictions file without model_latency_ms (nor exploration_bonus), as an
    // older server wrote it, and an impression of its prediction.
    const lakeDir = join(dir, 'lake');
    const predicted = new Date(T0.getTime() + 1_000);
    const predictionsDir = partitionDir(lakeDir, 'model_predictions', predicted);
    await mkdir(predictionsDir, { recursive: true });
    await queryDuckDb(
      `COPY (SELECT 'p-old' AS prediction_id, NULL::VARCHAR AS request_id, 'u1' AS user_id, 'a1' AS ad_id,
               0.1::DOUBLE AS probability, 'v-old' AS model_version, 'm-old' AS model_id, 'champion' AS variant,
               NULL::VARCHAR AS experiment_id, false AS fallback, true AS consent, '{}' AS features,
               TIMESTAMP '${predicted.toISOString().replace('T', ' ').replace('Z', '')}' AS timestamp)
       TO '${join(predictionsDir, 'old.parquet')}' (FORMAT parquet)`,
    );
    await writeRows(lakeDir, 'ad_impressions', [
      impression({ id: 'i1', user: 'u1', ad: 'a1', time: new Date(T0.getTime() + 2_000), prediction: 'p-old' }),
    ]);
    const db = await LakeDatabase.open({ lakeDir });

    // Act
    const { rows } = await new DuckDbAnalytics(db, { rollup: false }).models({
      ...range,
      limit: 10,
      attributionWindowSeconds: 3_600,
    });
    db.close();

    // Assess
    expect(modelMetrics(rows)).toMatchObject([
      {
        model_version: 'v-old',
        impressions: 1,
        serving: { predictions: 1, timed_predictions: 0, latency_p50_ms: null, latency_p99_ms: null },
        exploration: { predictions: 0, share: 0, mean_bonus: null },
      },
    ]);
  });
});
