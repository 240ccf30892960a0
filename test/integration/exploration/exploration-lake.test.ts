/**
 * The exploration bonus travels from a prediction record to the lake's model_predictions column
 * on both paths (local SQLite export, AWS DynamoDB stream) and through the dead-letter queue.
 */
import { mkdtempSync, rmSync } from 'node:fs';
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
import { closeExportConnections, exportPredictions } from '../../../lambdas/adapters/local/lake/prediction-export.js';
import { openDatabase } from '../../../lambdas/adapters/local/sqlite/database.js';
import { SqlitePredictionLog } from '../../../lambdas/adapters/local/sqlite/prediction-log.js';
import { prediction } from '../aws/sqs/dead-letter-fixtures.js';
import { lakeTable, queryDuckDb } from '../event-log/lake-helpers.js';

describe('the exploration bonus in the lake', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'adclick-explore-'));
  });

  afterEach(() => {
    closeExportConnections();
    rmSync(dir, { recursive: true, force: true });
  });

  it('exports the bonus from the SQLite log to model_predictions, null where none was applied', async () => {
    // Prepare
    const dbFile = join(dir, 'adclick.sqlite');
    const db = openDatabase(dbFile);
    await new SqlitePredictionLog(db).putAll([
      prediction('p1', { exploration_bonus: 0.75 }),
      prediction('p2', { exploration_bonus: null }),
    ]);
    db.close();

    // Act
    await exportPredictions(dbFile, join(dir, 'lake'), 0, 100);

    // Assess
    const rows = await queryDuckDb(
      `SELECT prediction_id, exploration_bonus FROM ${lakeTable(join(dir, 'lake'), 'model_predictions')} ORDER BY 1`,
    );
    expect(rows).toEqual([
      { prediction_id: 'p1', exploration_bonus: 0.75 },
      { prediction_id: 'p2', exploration_bonus: null },
    ]);
  });

  it('adds the column to a prediction log created before exploration, its old rows null', async () => {
    // Prepare: a database at the first schema version, holding one prediction
    const dbFile = join(dir, 'old.sqlite');
    openDatabase(dbFile).close();
    const raw = new Database(dbFile);
    raw.exec('ALTER TABLE predictions DROP COLUMN model_latency_ms');
    raw.exec('ALTER TABLE predictions DROP COLUMN exploration_bonus');
    // Later migrations' tables go too, as they did not exist at that version.
    raw.exec('DROP TABLE erasures');
    raw.pragma('user_version = 1');
    raw
      .prepare(
        `INSERT INTO predictions (prediction_id, request_id, user_id, ad_id, probability, model_id, model_version,
           variant, experiment_id, fallback, consent, features, explanation, ts)
         VALUES ('old', NULL, 'u', 'ad-1', 0.1, 'm', 'v', 'champion', NULL, 0, 1, '{}', NULL, 0)`,
      )
      .run();
    raw.close();

    // Act
    const db = openDatabase(dbFile);
    const [old] = await new SqlitePredictionLog(db).getMany(['old']);
    db.close();

    // Assess
    expect(old?.exploration_bonus).toBeNull();
  });

  it('carries the bonus from a DynamoDB item to its lake row, and reads an item written before it as null', () => {
    // Prepare
    const item = toPredictionItem(prediction('p1', { exploration_bonus: 1.5 }));
    const { exploration_bonus: _, ...older } = item;

    // Act
    const fresh = lakeRowOfItem({ ...item });
    const before = lakeRowOfItem(older);

    // Assess
    expect(fresh).toMatchObject({ ok: true, row: { exploration_bonus: 1.5 } });
    expect(before).toMatchObject({ ok: true, row: { exploration_bonus: null } });
  });

  it('refuses a DynamoDB item whose bonus is negative', () => {
    // Prepare
    const item = { ...toPredictionItem(prediction('p1')), exploration_bonus: -1 };

    // Act
    const decoded = lakeRowOfItem(item);

    // Assess
    expect(decoded.ok).toBe(false);
  });

  it('keeps the bonus through a dead-letter message, and reads a message parked before it as null', () => {
    // Prepare
    const record = prediction('p1', { exploration_bonus: 0.25 });
    const [body] = packPredictionMessages([record]).bodies;
    const olderBody = body!.replace(',"exploration_bonus":0.25', '');

    // Act
    const decoded = decodePredictionMessage(body!);
    const older = decodePredictionMessage(olderBody);

    // Assess
    expect(decoded).toEqual({ ok: true, records: [record] });
    expect(older).toMatchObject({ ok: true, records: [{ exploration_bonus: null }] });
  });
});
