// Worker thread that checkpoints the SQLite WAL into the database file. A checkpoint fsyncs
// twice; done by SQLite's autocheckpoint it would run inside a commit on the event loop and
// stall every request behind it. Here it runs on its own connection and thread, at low
// priority.
//
// Every pass is PASSIVE: it never waits for, nor blocks, the writers. PASSIVE alone cannot let
// the log start over while commits never pause (each pass ends behind the newest frame), so once
// the log holds `restartFrames` frames a RESTART follows the pass: it holds new writers off while
// it copies the little the pass left and syncs, then the next commit starts the log from the
// beginning. The prediction log's writer does not wait for that lock (openPredictionWriter).
//
// Plain JavaScript on purpose: a worker that loads the TypeScript loader costs ~40 MB of
// memory, for a few dozen lines.
// workerData: { file, intervalMs, restartFrames, restartBusyTimeoutMs }. Messages in: 'stop'.
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

try {
  // Linux: this thread is a task with its own nice value (see threads.ts).
  setPriority(Number(readlinkSync('/proc/thread-self').split('/').pop()), 15);
} catch {
  // Not Linux: normal priority.
}

const { file, intervalMs, restartFrames, restartBusyTimeoutMs } = workerData;
const db = new Database(file);
// Bounds both waits of a RESTART (for the write lock, then for readers to leave the log); a
// PASSIVE pass never waits.
db.pragma(`busy_timeout = ${restartBusyTimeoutMs}`);

// A restart that found a reader still in the log held the writers off for nothing; while the
// reader stays (a long export, an open sqlite3 shell), retrying at every pass would keep doing
// that. So after each refusal the next attempt waits twice as many passes, up to MAX_BACKOFF.
const MAX_BACKOFF_PASSES = 32;
let backoff = 1;
let skip = 0;

function pass() {
  const [passive] = db.pragma('wal_checkpoint(PASSIVE)');
  if (passive.log < restartFrames) return;
  if (skip > 0) {
    skip--;
    return;
  }
  const [restart] = db.pragma('wal_checkpoint(RESTART)');
  const busy = restart.busy !== 0;
  if (busy) {
    skip = backoff;
    backoff = Math.min(backoff * 2, MAX_BACKOFF_PASSES);
  } else {
    backoff = 1;
  }
  parentPort?.postMessage({ restart: { busy } });
}

const timer = setInterval(() => {
  try {
    pass();
  } catch (err) {
    parentPort?.postMessage({ error: String(err) });
  }
}, intervalMs);
parentPort?.on('message', (message) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort?.close();
});
parentPort?.postMessage({ ready: true });
