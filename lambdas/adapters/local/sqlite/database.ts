import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { Logger } from '../../../core/ports.js';
import { limitWorkerHeaps } from '../threads.js';

export type Sqlite = Database.Database;

/**
 * The schema of the local operational store, applied in order; a deployment at version N runs
 * migrations N+1.. at open. Add migrations, never edit one that shipped.
 */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE predictions (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     prediction_id TEXT NOT NULL UNIQUE,
     request_id TEXT,
     user_id TEXT,
     ad_id TEXT NOT NULL,
     probability REAL NOT NULL,
     model_id TEXT NOT NULL,
     model_version TEXT NOT NULL,
     variant TEXT NOT NULL,
     experiment_id TEXT,
     fallback INTEGER NOT NULL,
     consent INTEGER NOT NULL,
     features TEXT NOT NULL,
     explanation TEXT,
     ts INTEGER NOT NULL
   );
   CREATE TABLE ads (
     ad_id TEXT PRIMARY KEY,
     campaign_id TEXT NOT NULL,
     advertiser_id TEXT NOT NULL,
     category TEXT,
     attributes TEXT,
     created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL
   );
   CREATE TABLE model_metadata (
     model_id TEXT PRIMARY KEY,
     version TEXT NOT NULL UNIQUE,
     status TEXT NOT NULL,
     alias TEXT UNIQUE,
     record TEXT NOT NULL,
     created_at TEXT NOT NULL
   );
   CREATE TABLE experiments (
     experiment_id TEXT PRIMARY KEY,
     status TEXT NOT NULL,
     record TEXT NOT NULL,
     created_at TEXT NOT NULL
   );
   CREATE TABLE cursors (name TEXT PRIMARY KEY, position INTEGER NOT NULL);`,
  // Exploration of new ads (README "Exploration"): the logit bonus of an explored prediction.
  'ALTER TABLE predictions ADD COLUMN exploration_bonus REAL;',
  // The model call's time per prediction, for the experiments' latency guardrail.
  'ALTER TABLE predictions ADD COLUMN model_latency_ms REAL;',
  // User erasure receipts (DELETE /users/{user_id}); user_key is the pseudonym while unfinished.
  `CREATE TABLE erasures (
     erasure_id TEXT PRIMARY KEY,
     status TEXT NOT NULL,
     user_key TEXT,
     record TEXT NOT NULL,
     requested_at TEXT NOT NULL
   );
   CREATE INDEX erasures_unfinished ON erasures (status) WHERE status IN ('pending', 'running');`,
];

/**
 * After deleting personal data: makes SQLite overwrite what it frees from now on (secure_delete)
 * and moves the WAL into the database file and truncates it, so no old page image of the deleted
 * rows is left in either file. Retries while another connection (the checkpointer) is busy.
 */
export function scrubDeleted(db: Sqlite, attempts = 20): void {
  for (let i = 0; i < attempts; i++) {
    const [row] = db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
    if (row?.busy === 0) return;
  }
  throw new Error('SQLite: the WAL could not be truncated after an erasure (busy); the erasure is retried');
}

/**
 * WAL pages after which a commit checkpoints by itself, on the event loop. The worker's PASSIVE
 * passes copy the pages ahead of it but cannot let the log start over while writes never pause,
 * so under steady prediction traffic this still runs, about once per this many predictions
 * (docs/decisions.md, "Where the /predict tail comes from").
 */
const FALLBACK_AUTOCHECKPOINT_PAGES = 16_384;

/**
 * Opens (creating if needed) the SQLite file in WAL mode, so the CLI and the server can share it:
 * readers never block the writer. synchronous=NORMAL keeps every commit safe from a process
 * crash (kill -9); only an OS crash can lose the last commits, which the durable event log covers
 * for events. A long-running process should also `startCheckpointer`.
 */
export function openDatabase(file: string): Sqlite {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma(`wal_autocheckpoint = ${FALLBACK_AUTOCHECKPOINT_PAGES}`);
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  // Deleted content is overwritten, not left in free pages: an erased user's rows must not
  // survive in the file (DELETE /users/{user_id}); scrubDeleted empties the WAL too.
  db.pragma('secure_delete = ON');
  const version = db.pragma('user_version', { simple: true }) as number;
  for (let v = version; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
  return db;
}

/**
 * How often the checkpoint thread runs a PASSIVE pass. The fallback above still runs on the event
 * loop every FALLBACK_AUTOCHECKPOINT_PAGES frames under steady writes, and what it costs there is
 * syncing and copying the frames written since the thread's last pass: every second, that stalled
 * a commit 17–31 ms every ~2.4 s at 6 800 predictions/s; every 200 ms, about 13 ms (p99 at that
 * rate 5.4–10.5 → 3.8–4.6 ms; docs/decisions.md). A pass with nothing to copy costs no fsync.
 */
const CHECKPOINT_INTERVAL_MS = 200;

/**
 * Checkpoints the WAL every `intervalMs` from a low-priority worker thread (see
 * checkpoint-worker.mjs), so that most of a checkpoint's work (its fsyncs) is off the event loop.
 */
export async function startCheckpointer(
  file: string,
  logger: Logger,
  intervalMs = CHECKPOINT_INTERVAL_MS,
): Promise<{ stop(): Promise<void> }> {
  limitWorkerHeaps();
  const worker = new Worker(new URL('./checkpoint-worker.mjs', import.meta.url), { workerData: { file, intervalMs } });
  worker.unref();
  await new Promise<void>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', () => resolve());
  });
  // Past start-up a failing checkpointer costs WAL growth (the fallback autocheckpoint still
  // bounds it), not the server: log and go on.
  worker.on('error', (err) => logger.error('WAL checkpointer failed', { error: String(err) }));
  worker.on('message', (m: { error?: string }) => {
    if (m.error) logger.warn('WAL checkpoint failed', { error: m.error });
  });
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        worker.once('exit', () => resolve());
        worker.postMessage('stop');
      }),
  };
}
