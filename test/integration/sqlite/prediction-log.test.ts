import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeExportConnections, exportPredictions } from '../../../lambdas/adapters/local/lake/prediction-export.js';
import { openDatabase, openPredictionWriter, type Sqlite } from '../../../lambdas/adapters/local/sqlite/database.js';
import { SqlitePredictionLog } from '../../../lambdas/adapters/local/sqlite/prediction-log.js';
import { DependencyUnavailableError } from '../../../lambdas/core/errors.js';
import type { PredictionRecord } from '../../../lambdas/core/ports.js';
import { lakeTable, queryDuckDb } from '../event-log/lake-helpers.js';

const record = (id: string, at: Date, patch: Partial<PredictionRecord> = {}): PredictionRecord => ({
  prediction_id: id,
  request_id: null,
  user_id: 'u_abc',
  ad_id: 'ad-1',
  probability: 0.02,
  model_id: 'm_1',
  model_version: 'v1',
  variant: 'champion',
  experiment_id: null,
  fallback: false,
  consent: true,
  features: { device_type: 'mobile', position: 1 },
  explanation: null,
  exploration_bonus: null,
  model_latency_ms: null,
  timestamp: at,
  ...patch,
});

describe('the SQLite prediction log', () => {
  let dir: string;
  let db: Sqlite;
  let log: SqlitePredictionLog;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'adclick-predlog-'));
    db = openDatabase(join(dir, 'adclick.sqlite'));
    log = new SqlitePredictionLog(db);
  });

  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes a prediction once and keeps the first copy when the id comes again', async () => {
    // Prepare
    const at = new Date('2026-12-04T10:00:00Z');

    // Act
    const first = await log.putAll([record('p1', at)]);
    const second = await log.putAll([record('p1', at, { probability: 0.9 })]);

    // Assess
    expect(first.duplicates).toEqual([]);
    expect(second.duplicates).toEqual([0]);
    const [stored] = await log.getMany(['p1']);
    expect(stored).toMatchObject({
      prediction_id: 'p1',
      probability: 0.02,
      features: { device_type: 'mobile', position: 1 },
    });
  });

  it('commits concurrent writers together and tells each its own duplicates', async () => {
    // Prepare
    const at = new Date('2026-12-04T10:00:00Z');

    // Act: the same turn of the event loop, so one transaction
    const results = await Promise.all([
      log.putAll([record('a', at), record('b', at)]),
      log.putAll([record('b', at), record('c', at)]),
    ]);

    // Assess
    expect(results).toEqual([{ duplicates: [] }, { duplicates: [0] }]);
    expect((await log.getMany(['a', 'b', 'c'])).map((r) => r?.prediction_id)).toEqual(['a', 'b', 'c']);
  });

  it('exports to the lake once, in partitions of the prediction time, even when an export is replayed', async () => {
    // Prepare
    const lake = join(dir, 'lake');
    const dbFile = join(dir, 'adclick.sqlite');
    await log.putAll([
      record('p1', new Date('2026-12-04T10:59:59Z')),
      record('p2', new Date('2026-12-04T11:00:00Z'), { consent: false, user_id: null }),
    ]);

    // Act: the first export, a replay from the same cursor (a crash before the cursor moved), then the next
    const first = await exportPredictions(dbFile, lake, 0, 100);
    const replay = await exportPredictions(dbFile, lake, 0, 100);
    const next = await exportPredictions(dbFile, lake, first.lastSeq, 100);
    closeExportConnections();

    // Assess
    expect(first.rows).toBe(2);
    expect(replay.files).toEqual(first.files);
    expect(next).toEqual({ lastSeq: first.lastSeq, rows: 0, files: [] });
    const rows = await queryDuckDb(
      `SELECT prediction_id, user_id, consent, features, CAST(hour AS INTEGER) AS hour
         FROM ${lakeTable(lake, 'model_predictions')} ORDER BY prediction_id`,
    );
    expect(rows).toEqual([
      {
        prediction_id: 'p1',
        user_id: 'u_abc',
        consent: true,
        features: '{"device_type":"mobile","position":1}',
        hour: 10,
      },
      {
        prediction_id: 'p2',
        user_id: null,
        consent: false,
        features: '{"device_type":"mobile","position":1}',
        hour: 11,
      },
    ]);
  });

  it('exports every field of a prediction into its own lake column', async () => {
    // Prepare: a value in every field, each distinguishable from the others
    const lake = join(dir, 'lake');
    const at = new Date('2026-12-04T10:15:00.123Z');
    const scalars = {
      request_id: 'req-9',
      user_id: 'u_all',
      ad_id: 'ad-7',
      probability: 0.125,
      model_id: 'm_7',
      model_version: 'v7',
      variant: 'challenger',
      experiment_id: 'exp-3',
      fallback: true,
      consent: true,
      exploration_bonus: 0.5,
      model_latency_ms: 2.25,
    };
    await log.putAll([record('p-all', at, { ...scalars, features: { site_id: 's-1' } })]);

    // Act
    await exportPredictions(join(dir, 'adclick.sqlite'), lake, 0, 100);
    closeExportConnections();

    // Assess
    const rows = await queryDuckDb(
      `SELECT prediction_id, ${Object.keys(scalars).join(', ')}, features, CAST(epoch_ms(timestamp) AS DOUBLE) AS ms
         FROM ${lakeTable(lake, 'model_predictions')}`,
    );
    expect(rows).toEqual([{ prediction_id: 'p-all', ...scalars, features: '{"site_id":"s-1"}', ms: at.getTime() }]);
  });

  it('expires exactly the predictions older than the cutoff', async () => {
    // Prepare
    const day = 86_400_000;
    const now = Date.parse('2026-12-04T10:00:00Z');
    await log.putAll([
      record('old-1', new Date(now - 95 * day)),
      record('old-2', new Date(now - 91 * day)),
      record('new-1', new Date(now - 89 * day)),
      record('new-2', new Date(now)),
    ]);

    // Act
    const removed = log.expireBefore(new Date(now - 90 * day));
    const removedAgain = log.expireBefore(new Date(now - 90 * day));

    // Assess
    expect(removed).toBe(2);
    expect(removedAgain).toBe(0);
    expect((await log.getMany(['old-1', 'old-2', 'new-1', 'new-2'])).map((r) => r?.prediction_id)).toEqual([
      undefined,
      undefined,
      'new-1',
      'new-2',
    ]);
  });

  it('expires at most maxRows a step, oldest first, until only young predictions are left', async () => {
    // Prepare: seven expired predictions and two young ones
    const day = 86_400_000;
    const now = Date.parse('2026-12-04T10:00:00Z');
    const old = Array.from({ length: 7 }, (_, i) => record(`old-${i}`, new Date(now - (100 - i) * day)));
    await log.putAll([...old, record('young-1', new Date(now - day)), record('young-2', new Date(now))]);
    const cutoff = new Date(now - 90 * day);

    // Act
    const steps = [1, 2, 3, 4].map(() => log.expireBefore(cutoff, { maxRows: 3 }));

    // Assess
    expect(steps).toEqual([3, 3, 1, 0]);
    const left = await log.getMany([...old.map((r) => r.prediction_id), 'young-1', 'young-2']);
    expect(left.map((r) => r?.prediction_id)).toEqual([...old.map(() => undefined), 'young-1', 'young-2']);
  });

  it('keeps an expired prediction the lake has not received yet', async () => {
    // Prepare: three expired predictions, seq 1..3, of which the export has reached seq 2
    await log.putAll([
      record('a', new Date('2026-01-01T00:00:00Z')),
      record('b', new Date('2026-01-02T00:00:00Z')),
      record('c', new Date('2026-01-03T00:00:00Z')),
    ]);
    const { seq: first } = db.prepare('SELECT min(seq) AS seq FROM predictions').get() as { seq: number };

    // Act
    const removed = log.expireBefore(new Date('2026-12-01T00:00:00Z'), { exportedThrough: first + 1 });

    // Assess
    expect(removed).toBe(2);
    expect((await log.getMany(['a', 'b', 'c'])).map((r) => r?.prediction_id)).toEqual([undefined, undefined, 'c']);
  });

  it('expires everything when every prediction is older than the cutoff', async () => {
    // Prepare
    await log.putAll([record('a', new Date('2026-01-01T00:00:00Z')), record('b', new Date('2026-01-02T00:00:00Z'))]);

    // Act
    const removed = log.expireBefore(new Date('2026-12-01T00:00:00Z'));

    // Assess
    expect(removed).toBe(2);
  });

  describe('with a writer connection that never waits for a lock', () => {
    let writer: Sqlite;
    let other: Sqlite;

    beforeEach(() => {
      writer = openPredictionWriter(join(dir, 'adclick.sqlite'));
      other = openDatabase(join(dir, 'adclick.sqlite'));
    });

    afterEach(() => {
      if (other.inTransaction) other.exec('ROLLBACK');
      other.close();
      writer.close();
    });

    it('keeps the group pending while another connection holds the write lock, without blocking the event loop, and commits it once the lock is free', async () => {
      // Prepare: another connection takes the write lock (as a checkpoint's restart does)
      const viaWriter = new SqlitePredictionLog(db, { writer });
      other.exec('BEGIN IMMEDIATE');
      let settled = false;

      // Act
      const written = viaWriter.putAll([record('p1', new Date('2026-12-04T10:00:00Z'))]).finally(() => {
        settled = true;
      });
      const timerRan = await new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 30));
      const settledWhileLocked = settled;
      other.exec('COMMIT');
      const result = await written;

      // Assess
      expect(timerRan).toBe(true);
      expect(settledWhileLocked).toBe(false);
      expect(result.duplicates).toEqual([]);
      expect((await viaWriter.getMany(['p1']))[0]?.prediction_id).toBe('p1');
    });

    it('rejects the group as unavailable (a 503) and writes none of it when the lock stays taken past the deadline', async () => {
      // Prepare
      const viaWriter = new SqlitePredictionLog(db, { writer, busyDeadlineMs: 20 });
      other.exec('BEGIN IMMEDIATE');

      // Act
      const outcome = await viaWriter.putAll([record('p1', new Date('2026-12-04T10:00:00Z'))]).catch((err) => err);
      other.exec('COMMIT');

      // Assess
      expect(outcome).toBeInstanceOf(DependencyUnavailableError);
      expect(outcome.message).toMatch(/write lock stayed taken for 20 ms/);
      expect(await viaWriter.getMany(['p1'])).toEqual([undefined]);
    });

    it('writes the next group normally after a group was refused', async () => {
      // Prepare
      const viaWriter = new SqlitePredictionLog(db, { writer, busyDeadlineMs: 20 });
      other.exec('BEGIN IMMEDIATE');
      await viaWriter.putAll([record('p1', new Date('2026-12-04T10:00:00Z'))]).catch(() => undefined);
      other.exec('COMMIT');

      // Act
      const result = await viaWriter.putAll([record('p2', new Date('2026-12-04T10:00:01Z'))]);

      // Assess
      expect(result.duplicates).toEqual([]);
      expect((await viaWriter.getMany(['p1', 'p2'])).map((r) => r?.prediction_id)).toEqual([undefined, 'p2']);
    });
  });
});
