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
 * WAL frames after which the checkpoint thread restarts the log (a RESTART checkpoint): its
 * PASSIVE passes copy the frames but cannot let the log start over while writes never pause, so
 * it briefly holds the writers off to finish the copy. The prediction log's writer does not wait
 * for it (openPredictionWriter): it keeps grouping rows and commits once the lock is free
 * (docs/decisions.md, "Where the /predict tail comes from").
 */
const RESTART_FRAMES = 16_384;

/**
 * WAL pages after which a commit checkpoints by itself, in whichever connection commits it (on the
 * event loop for the server's): a safety net above RESTART_FRAMES, for when the checkpoint thread
 * cannot restart the log (a long reader) or is not running (a command-line process).
 */
const FALLBACK_AUTOCHECKPOINT_PAGES = 4 * RESTART_FRAMES;

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
 * A second connection for the prediction log's inserts, which come every millisecond or two under
 * load: it never waits for a lock (busy_timeout 0), so when the checkpoint thread holds the
 * writers off to restart the log, SqlitePredictionLog keeps the rows pending and tries again a
 * millisecond later instead of blocking the event loop in SQLite's busy handler.
 */
export function openPredictionWriter(file: string): Sqlite {
  const db = openDatabase(file);
  db.pragma('busy_timeout = 0');
  return db;
}

/**
 * How often the checkpoint thread runs a PASSIVE pass. Each pass copies what was written since the
 * last one, so that the RESTART that follows the log's growth past RESTART_FRAMES has little left
 * to copy and holds the writers off for about its two fsyncs. A pass with nothing to copy costs no
 * fsync.
 */
const CHECKPOINT_INTERVAL_MS = 200;

/**
 * How long the RESTART waits for the write lock, and then for readers to leave the log, before it
 * gives up until the next pass. The prediction writer holds the lock for well under a millisecond
 * at a time; a reader still in the log (a lake export reading a batch) makes it try again later
 * rather than keep the writers off.
 */
const RESTART_BUSY_TIMEOUT_MS = 10;

export interface CheckpointerOptions {
  /** @default 200 ms (CHECKPOINT_INTERVAL_MS) */
  readonly intervalMs?: number;
  /** @default 16 384 frames (RESTART_FRAMES) */
  readonly restartFrames?: number;
}

export interface Checkpointer {
  /** Restarts of the log so far, and restarts tried that found a writer or a reader in the way. */
  stats(): { restarts: number; restartsBusy: number };
  stop(): Promise<void>;
}

interface CheckpointerMessage {
  readonly ready?: true;
  readonly error?: string;
  readonly restart?: { readonly busy: boolean };
}

/**
 * Checkpoints the WAL from a low-priority worker thread (see checkpoint-worker.mjs): a PASSIVE
 * pass every `intervalMs`, and a RESTART once the log holds `restartFrames`, so that the log
 * starts over without any commit on the event loop doing a checkpoint (and its fsyncs) itself.
 */
export async function startCheckpointer(
  file: string,
  logger: Logger,
  options: CheckpointerOptions = {},
): Promise<Checkpointer> {
  limitWorkerHeaps();
  const workerData = {
    file,
    intervalMs: options.intervalMs ?? CHECKPOINT_INTERVAL_MS,
    restartFrames: options.restartFrames ?? RESTART_FRAMES,
    restartBusyTimeoutMs: RESTART_BUSY_TIMEOUT_MS,
  };
  const worker = new Worker(new URL('./checkpoint-worker.mjs', import.meta.url), { workerData });
  worker.unref();
  await new Promise<void>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', () => resolve());
  });
  const counts = { restarts: 0, restartsBusy: 0 };
  // Past start-up a failing checkpointer costs WAL growth (the fallback autocheckpoint still
  // bounds it), not the server: log and go on.
  worker.on('error', (err) => logger.error('WAL checkpointer failed', { error: String(err) }));
  worker.on('message', (m: CheckpointerMessage) => {
    if (m.error) logger.warn('WAL checkpoint failed', { error: m.error });
    if (m.restart) {
      if (m.restart.busy) counts.restartsBusy++;
      else counts.restarts++;
    }
  });
  return {
    stats: () => ({ restarts: counts.restarts, restartsBusy: counts.restartsBusy }),
    stop: () =>
      new Promise<void>((resolve) => {
        worker.once('exit', () => resolve());
        worker.postMessage('stop');
      }),
  };
}
