/**
 * The lake's model_predictions feed: rows of the SQLite prediction log, read after a sequence
 * number and written straight to Parquet. It runs where compaction runs (the low-priority worker
 * thread), so the predict path pays nothing for it beyond its one SQLite insert: the local twin
 * of the DynamoDB stream → Firehose path in AWS.
 *
 * A batch's file in each partition is named after the first sequence number it holds, and a
 * batch always starts right after the cursor: replayed after a crash (before the cursor moved),
 * it rewrites the same files with the same or more rows, never a second copy.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { fsyncDir } from '../event-log/segment.js';
import type { PredictionRow } from '../sqlite/prediction-log.js';
import { LakeColumnsBuilder, writeLakeParquetFile } from './parquet-writer.js';
import { partitionDir } from './partitions.js';

export interface PredictionExportResult {
  /** Sequence number of the last row exported (the cursor to store), or the one given. */
  readonly lastSeq: number;
  readonly rows: number;
  readonly files: readonly string[];
}

type Row = Omit<PredictionRow, 'explanation'>;

const connections = new Map<string, Database.Database>();

function connection(dbFile: string): Database.Database {
  let db = connections.get(dbFile);
  if (!db) {
    db = new Database(dbFile, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 1000');
    connections.set(dbFile, db);
  }
  return db;
}

export function closeExportConnections(): void {
  for (const db of connections.values()) db.close();
  connections.clear();
}

export async function exportPredictions(
  dbFile: string,
  lakeDir: string,
  afterSeq: number,
  limit: number,
): Promise<PredictionExportResult> {
  const rows = connection(dbFile)
    .prepare<[number, number], Row>(
      `SELECT seq, prediction_id, request_id, user_id, ad_id, probability, model_id, model_version, variant,
              experiment_id, fallback, consent, features, ts, exploration_bonus, model_latency_ms
         FROM predictions WHERE seq > ? ORDER BY seq LIMIT ?`,
    )
    .all(afterSeq, limit);
  if (rows.length === 0) return { lastSeq: afterSeq, rows: 0, files: [] };
  const groups = new Map<string, { first: number; columns: LakeColumnsBuilder }>();
  for (const r of rows) {
    const timestamp = new Date(r.ts);
    const dir = partitionDir(lakeDir, 'model_predictions', timestamp);
    let group = groups.get(dir);
    if (!group) {
      group = { first: r.seq, columns: new LakeColumnsBuilder('model_predictions') };
      groups.set(dir, group);
    }
    const problem = group.columns.add({
      prediction_id: r.prediction_id,
      request_id: r.request_id,
      user_id: r.user_id,
      ad_id: r.ad_id,
      probability: r.probability,
      model_version: r.model_version,
      model_id: r.model_id,
      variant: r.variant,
      experiment_id: r.experiment_id,
      fallback: r.fallback === 1,
      consent: r.consent === 1,
      features: r.features,
      timestamp,
      exploration_bonus: r.exploration_bonus,
      model_latency_ms: r.model_latency_ms,
    });
    // The log's own schema guarantees these; a failure here is a bug, not bad input.
    if (problem !== null) throw new Error(`prediction ${r.prediction_id} does not fit model_predictions: ${problem}`);
  }
  const files: string[] = [];
  for (const [dir, group] of groups) {
    await mkdir(dir, { recursive: true });
    const file = join(dir, `predictions-${String(group.first).padStart(12, '0')}.parquet`);
    await writeLakeParquetFile(file, 'model_predictions', group.columns);
    await fsyncDir(dir);
    files.push(file);
  }
  return { lastSeq: rows[rows.length - 1]!.seq, rows: rows.length, files };
}
