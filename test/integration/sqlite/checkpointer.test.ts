import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type Checkpointer,
  openDatabase,
  openPredictionWriter,
  type Sqlite,
  startCheckpointer,
} from '../../../lambdas/adapters/local/sqlite/database.js';
import { SqlitePredictionLog } from '../../../lambdas/adapters/local/sqlite/prediction-log.js';
import type { Logger } from '../../../lambdas/core/ports.js';
import { predictionRecord } from '../contracts/prediction-log.contract.js';

const WAL_FRAME_BYTES = 24 + 4096;

// Snapshots large enough that every commit writes a few pages, as real ones do.
const record = (id: string) =>
  predictionRecord(id, { features: { device_type: 'mobile', site_id: 'site_0001', note: 'x'.repeat(1500) } });

const warnings: string[] = [];
const logger: Logger = {
  info: () => undefined,
  warn: (message, fields) => warnings.push(`${message} ${JSON.stringify(fields)}`),
  error: (message, fields) => warnings.push(`${message} ${JSON.stringify(fields)}`),
};

describe('the WAL checkpointer', () => {
  let dir: string;
  let file: string;
  let db: Sqlite;
  let writer: Sqlite;
  let checkpointer: Checkpointer | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'adclick-checkpointer-'));
    file = join(dir, 'adclick.sqlite');
    db = openDatabase(file);
    writer = openPredictionWriter(file);
    warnings.length = 0;
  });

  afterEach(async () => {
    await checkpointer?.stop();
    checkpointer = undefined;
    writer.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('restarts the log while prediction writes never pause, and no write is refused or lost', async () => {
    // Prepare: a restart every 64 frames; the prediction log committing a row every millisecond
    const restartFrames = 64;
    checkpointer = await startCheckpointer(file, logger, { intervalMs: 5, restartFrames });
    const log = new SqlitePredictionLog(db, { writer });
    const writes: Promise<unknown>[] = [];
    let n = 0;
    const traffic = setInterval(() => {
      writes.push(log.putAll([record(`p${n++}`)]));
    }, 1);

    // Act
    try {
      // Long enough that a log that never restarted would hold several times restartFrames.
      await vi.waitFor(() => expect([checkpointer!.stats().restarts >= 10, n >= 300]).toEqual([true, true]), {
        timeout: 30_000,
        interval: 20,
      });
    } finally {
      clearInterval(traffic);
    }
    const outcomes = await Promise.allSettled(writes);

    // Assess
    expect(outcomes.filter((o) => o.status === 'rejected')).toEqual([]);
    const { rows } = db.prepare('SELECT count(*) AS rows FROM predictions').get() as { rows: number };
    expect(rows).toBe(n);
    // Restarted, the log is rewritten from its start instead of growing with every write (without
    // the restarts this run leaves over 600 frames).
    expect(statSync(`${file}-wal`).size).toBeLessThan(4 * restartFrames * WAL_FRAME_BYTES);
    expect(warnings).toEqual([]);
  });

  it('gives up a restart while a reader is still in the log, and restarts once it has left', async () => {
    // Prepare: a reader holding a snapshot that needs frames of the log (taken before any
    // checkpoint could copy them), and writes going on
    const log = new SqlitePredictionLog(db, { writer });
    await log.putAll([record('first')]);
    const reader = openDatabase(file);
    reader.exec('BEGIN');
    reader.prepare('SELECT count(*) FROM predictions').get();
    checkpointer = await startCheckpointer(file, logger, { intervalMs: 5, restartFrames: 64 });
    const writes: Promise<unknown>[] = [];
    let n = 0;
    const traffic = setInterval(() => {
      writes.push(log.putAll([record(`p${n++}`)]));
    }, 1);

    // Act
    let restartsWhileReading: number;
    try {
      await vi.waitFor(() => expect(checkpointer!.stats().restartsBusy).toBeGreaterThanOrEqual(3), {
        timeout: 30_000,
        interval: 20,
      });
      restartsWhileReading = checkpointer.stats().restarts;
      reader.exec('COMMIT');
      await vi.waitFor(() => expect(checkpointer!.stats().restarts).toBeGreaterThanOrEqual(1), {
        timeout: 30_000,
        interval: 20,
      });
    } finally {
      clearInterval(traffic);
      if (reader.inTransaction) reader.exec('ROLLBACK');
      reader.close();
    }
    const outcomes = await Promise.allSettled(writes);

    // Assess: the reader kept the log from restarting, and no write was refused meanwhile
    expect(restartsWhileReading).toBe(0);
    expect(outcomes.filter((o) => o.status === 'rejected')).toEqual([]);
    const { rows } = db.prepare('SELECT count(*) AS rows FROM predictions').get() as { rows: number };
    expect(rows).toBe(n + 1);
    expect(warnings).toEqual([]);
  });
});
