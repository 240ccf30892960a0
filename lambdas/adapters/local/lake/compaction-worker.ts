/**
 * Worker thread entry of the compactor: compacts the segments it is sent, one at a time, so
 * that Parquet encoding runs on its own core instead of the event loop that serves appends.
 *
 * Messages in: `{ id, ...WorkerJob }` (compact a segment, export prediction-log rows, or merge a partition). Out: `{ ready: true }` once loaded, then
 * `{ id, result }` or `{ id, error }` per job, and `{ log, message, fields }` for log lines.
 */
import { parentPort } from 'node:worker_threads';
import type { Logger } from '../../../core/ports.js';
import { lowerThisThreadPriority } from '../threads.js';
import { runJob, type WorkerJob } from './compactor.js';

const port = parentPort;
if (port === null) throw new Error('compaction-worker must run in a worker thread');
lowerThisThreadPriority();

const logger: Logger = {
  info: (message, fields) => port.postMessage({ log: 'info', message, fields }),
  warn: (message, fields) => port.postMessage({ log: 'warn', message, fields }),
  error: (message, fields) => port.postMessage({ log: 'error', message, fields }),
};

let queue: Promise<void> = Promise.resolve();
port.on('message', (job: WorkerJob & { readonly id: number }) => {
  queue = queue.then(async () => {
    try {
      const result = await runJob(job, logger);
      port.postMessage({ id: job.id, result });
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      port.postMessage({
        id: job.id,
        error: { name: e.name, message: e.message, stack: e.stack, code: (e as NodeJS.ErrnoException).code },
      });
    }
  });
});
port.postMessage({ ready: true });
