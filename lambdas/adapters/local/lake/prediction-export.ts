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
import { HOUR_MS, partitionDir } from './partitions.js';

export interface PredictionExportResult {
  /** Sequence number of the last row exported (the cursor to store), or the one given. */
  readonly lastSeq: number;
  readonly rows: number;
  readonly files: readonly string[];
}

/**
 * The columns read, in this order. Rows come back as arrays (`raw`): otherwise better-sqlite3
 * builds an object of sixteen named properties for every row.
 */
const COLUMNS = [
  'seq',
  'prediction_id',
  'request_id',
  'user_id',
  'ad_id',
  'probability',
  'model_id',
  'model_version',
  'variant',
  'experiment_id',
  'fallback',
  'consent',
  'features',
  'ts',
  'exploration_bonus',
  'model_latency_ms',
] as const satisfies readonly (keyof PredictionRow)[];
// Positions in COLUMNS (derived, so that the list above is the only place the order is written).
const at = (column: (typeof COLUMNS)[number]): number => COLUMNS.indexOf(column);
const SEQ = at('seq');
const PREDICTION_ID = at('prediction_id');
const REQUEST_ID = at('request_id');
const USER_ID = at('user_id');
const AD_ID = at('ad_id');
const PROBABILITY = at('probability');
const MODEL_ID = at('model_id');
const MODEL_VERSION = at('model_version');
const VARIANT = at('variant');
const EXPERIMENT_ID = at('experiment_id');
const FALLBACK = at('fallback');
const CONSENT = at('consent');
const FEATURES = at('features');
const TS = at('ts');
const EXPLORATION_BONUS = at('exploration_bonus');
const MODEL_LATENCY_MS = at('model_latency_ms');
type RawRow = unknown[];

interface Reader {
  readonly db: Database.Database;
  readonly after: Database.Statement<[number, number], RawRow>;
}

const readers = new Map<string, Reader>();

function reader(dbFile: string): Reader {
  let r = readers.get(dbFile);
  if (!r) {
    const db = new Database(dbFile, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 1000');
    const after = db
      .prepare<[number, number], RawRow>(
        `SELECT ${COLUMNS.join(', ')} FROM predictions WHERE seq > ? ORDER BY seq LIMIT ?`,
      )
      .raw(true);
    r = { db, after };
    readers.set(dbFile, r);
  }
  return r;
}

export function closeExportConnections(): void {
  for (const r of readers.values()) r.db.close();
  readers.clear();
}

export async function exportPredictions(
  dbFile: string,
  lakeDir: string,
  afterSeq: number,
  limit: number,
): Promise<PredictionExportResult> {
  const rows = reader(dbFile).after.all(afterSeq, limit);
  if (rows.length === 0) return { lastSeq: afterSeq, rows: 0, files: [] };
  // Rows are in sequence order, which is nearly time order: the partition of the last row's hour
  // is kept, and the directory is built once an hour of rows, not once a row.
  const groups = new Map<string, { first: number; columns: LakeColumnsBuilder }>();
  let lastHour = Number.NaN;
  let group: { first: number; columns: LakeColumnsBuilder } | undefined;
  for (const r of rows) {
    const ts = r[TS] as number;
    const hour = Math.floor(ts / HOUR_MS);
    if (hour !== lastHour || group === undefined) {
      const dir = partitionDir(lakeDir, 'model_predictions', new Date(ts));
      group = groups.get(dir);
      if (!group) {
        group = { first: r[SEQ] as number, columns: new LakeColumnsBuilder('model_predictions') };
        groups.set(dir, group);
      }
      lastHour = hour;
    }
    const problem = group.columns.add({
      prediction_id: r[PREDICTION_ID],
      request_id: r[REQUEST_ID],
      user_id: r[USER_ID],
      ad_id: r[AD_ID],
      probability: r[PROBABILITY],
      model_version: r[MODEL_VERSION],
      model_id: r[MODEL_ID],
      variant: r[VARIANT],
      experiment_id: r[EXPERIMENT_ID],
      fallback: r[FALLBACK] === 1,
      consent: r[CONSENT] === 1,
      features: r[FEATURES],
      timestamp: ts,
      exploration_bonus: r[EXPLORATION_BONUS],
      model_latency_ms: r[MODEL_LATENCY_MS],
    });
    // The log's own schema guarantees these; a failure here is a bug, not bad input.
    if (problem !== null)
      throw new Error(`prediction ${String(r[PREDICTION_ID])} does not fit model_predictions: ${problem}`);
  }
  const files: string[] = [];
  for (const [dir, group] of groups) {
    await mkdir(dir, { recursive: true });
    const file = join(dir, `predictions-${String(group.first).padStart(12, '0')}.parquet`);
    await writeLakeParquetFile(file, 'model_predictions', group.columns);
    await fsyncDir(dir);
    files.push(file);
  }
  return { lastSeq: rows[rows.length - 1]![SEQ] as number, rows: rows.length, files };
}
