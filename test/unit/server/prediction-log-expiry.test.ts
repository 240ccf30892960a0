import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Sqlite } from '../../../lambdas/adapters/local/sqlite/database.js';
import { SqlitePredictionLog } from '../../../lambdas/adapters/local/sqlite/prediction-log.js';
import { startPredictionLogExpiry } from '../../../lambdas/server/prediction-log-expiry.js';
import { predictionRecord } from '../../integration/contracts/prediction-log.contract.js';
import { RecordingLogger } from '../../support/memory-ports.js';

const DAY = 86_400_000;
const NOW = Date.parse('2026-12-04T10:00:00Z');

const record = (id: string, ageDays: number) => predictionRecord(id, { timestamp: new Date(NOW - ageDays * DAY) });

describe('startPredictionLogExpiry', () => {
  let dir: string;
  let db: Sqlite;
  let log: SqlitePredictionLog;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'adclick-expiry-'));
    db = openDatabase(join(dir, 'adclick.sqlite'));
    log = new SqlitePredictionLog(db);
    // Ten predictions 40 down to 31 days old and two young ones.
    await log.putAll([...Array.from({ length: 10 }, (_, i) => record(`old-${i}`, 40 - i)), record('young', 1)]);
    await log.putAll([record('today', 0)]);
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('deletes what is past the retention in bounded steps at start, and keeps the rest', async () => {
    // Prepare: count the steps
    const steps: number[] = [];
    const counting = {
      expireBefore: (cutoff: Date, options?: { maxRows?: number; exportedThrough?: number }) => {
        const removed = log.expireBefore(cutoff, options);
        steps.push(removed);
        return removed;
      },
    };
    const logger = new RecordingLogger();

    // Act: the run that starts with it
    const expiry = startPredictionLogExpiry({
      log: counting,
      exportedThrough: () => Number.MAX_SAFE_INTEGER,
      retentionDays: 30,
      logger,
      now: () => NOW,
      batchRows: 4,
      pauseMs: 0,
    });
    const removed = await expiry.run();
    await expiry.stop();

    // Assess: 10 rows in steps of 4, 4, 2; the young ones stay
    expect(steps).toEqual([4, 4, 2]);
    expect(removed).toBe(10);
    expect((await log.getMany(['old-0', 'old-9', 'young', 'today'])).map((r) => r?.prediction_id)).toEqual([
      undefined,
      undefined,
      'young',
      'today',
    ]);
    expect(logger.entries).toContainEqual(
      expect.objectContaining({ message: 'predictions past their retention deleted' }),
    );
  });

  it('stops between steps when stopped', async () => {
    // Prepare / Act: one step of 3, then stop before the pause ends
    const expiry = startPredictionLogExpiry({
      log,
      exportedThrough: () => Number.MAX_SAFE_INTEGER,
      retentionDays: 30,
      logger: new RecordingLogger(),
      now: () => NOW,
      batchRows: 3,
      pauseMs: 50,
    });
    await expiry.stop();

    // Assess: only the first step ran
    const left = await log.getMany(Array.from({ length: 10 }, (_, i) => `old-${i}`));
    expect(left.filter((r) => r !== undefined)).toHaveLength(7);
  });

  it('leaves what the lake has not received, to a later run', async () => {
    // Prepare: the export reached the fourth prediction only
    const { seq: first } = db.prepare('SELECT min(seq) AS seq FROM predictions').get() as { seq: number };

    // Act
    const expiry = startPredictionLogExpiry({
      log,
      exportedThrough: () => first + 3,
      retentionDays: 30,
      logger: new RecordingLogger(),
      now: () => NOW,
      pauseMs: 0,
    });
    const removed = await expiry.run();
    await expiry.stop();

    // Assess
    expect(removed).toBe(4);
    const left = await log.getMany(Array.from({ length: 10 }, (_, i) => `old-${i}`));
    expect(left.filter((r) => r !== undefined)).toHaveLength(6);
  });
});
