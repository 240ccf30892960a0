// Worker thread that checkpoints the SQLite WAL into the database file. A checkpoint fsyncs
// twice; done by SQLite's autocheckpoint it would run inside a commit on the event loop and
// stall every request behind it. Here it runs on its own connection and thread, at low
// priority, and PASSIVE: it never waits for, nor blocks, the writer.
//
// Plain JavaScript on purpose: a worker that loads the TypeScript loader costs ~40 MB of
// memory, for a dozen lines. workerData: { file, intervalMs }. Messages in: 'stop'.
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

const { file, intervalMs } = workerData;
const db = new Database(file);
db.pragma('busy_timeout = 1000');
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
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
