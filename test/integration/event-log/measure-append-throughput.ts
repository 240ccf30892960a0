/**
 * Measures the durable event log's append throughput (not a test: nothing here asserts time).
 *
 *     node_modules/.bin/tsx test/integration/event-log/measure-append-throughput.ts [rows] [rowsPerAppend] [inFlight]
 *
 * Keeps `inFlight` appends of `rowsPerAppend` ad_impressions rows outstanding (like concurrent
 * HTTP requests) until `rows` rows are durable, with background compaction on, in a temp dir.
 * Prints rows/s, the main thread's busy time per row (what an HTTP server on one core pays for
 * the log), fsyncs and rows per fsync, then the time `close()` takes to compact the rest.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DurableEventLog } from '../../../lambdas/adapters/local/event-log/durable-event-log.js';
import type { LakeRow } from '../../../lambdas/core/ports.js';

const total = Number(process.argv[2] ?? 500_000);
const perAppend = Number(process.argv[3] ?? 1);
const inFlight = Number(process.argv[4] ?? 256);

const root = await mkdtemp(join(tmpdir(), 'event-log-throughput-'));
const log = await DurableEventLog.open({ dir: join(root, 'log'), lakeDir: join(root, 'lake') });
const base = Date.now() - 60_000;

function row(i: number): LakeRow {
  return {
    table: 'ad_impressions',
    row: {
      impression_id: `imp-${i}-7f3a9c2e`,
      prediction_id: `pred-${i}-0b1c`,
      user_id: `u_8f14e45fceea167a5a36dedd4bea${i % 5000}`,
      ad_id: `ad-${i % 1000}`,
      timestamp: new Date(base + (i % 60_000)),
      device_type: i % 3 === 0 ? 'desktop' : 'mobile',
      location: 'US-CA',
      ip: 'ip_45c48cce2e2d7fbdea1afc51c7c6ad26',
      features: '{"site_id":"s-12","slot":"top","position":1}',
      received_at: new Date(),
    },
  };
}

async function run(rows: number): Promise<void> {
  let next = 0;
  let outstanding = 0;
  await new Promise<void>((done, fail) => {
    const pump = (): void => {
      while (outstanding < inFlight && next < rows) {
        const batch: LakeRow[] = [];
        for (let k = 0; k < perAppend && next < rows; k++) batch.push(row(next++ + (rows === total ? 1e9 : 0)));
        outstanding++;
        log.append(batch).then(() => {
          outstanding--;
          if (next >= rows && outstanding === 0) done();
          else pump();
        }, fail);
      }
    };
    pump();
  });
}

await run(Math.min(50_000, total)); // warm-up
const before = log.stats();
const elu0 = performance.eventLoopUtilization();
const cpu0 = process.cpuUsage();
const t0 = performance.now();
await run(total);
const seconds = (performance.now() - t0) / 1000;
const elu = performance.eventLoopUtilization(elu0);
const cpu = process.cpuUsage(cpu0);
const after = log.stats();
const syncs = after.syncs - before.syncs;
console.log(
  JSON.stringify({
    rows: total,
    rowsPerAppend: perAppend,
    inFlight,
    seconds: Number(seconds.toFixed(2)),
    rowsPerSecond: Math.round(total / seconds),
    mainThreadBusyMicrosPerRow: Number(((elu.active * 1000) / total).toFixed(2)),
    processCpuMicrosPerRow: Number(((cpu.user + cpu.system) / total).toFixed(2)),
    fsyncs: syncs,
    rowsPerFsync: Math.round(total / syncs),
    segmentsCompactedMeanwhile: after.segmentsCompacted - before.segmentsCompacted,
    compactingIn: after.compactingIn,
    dedupBytesPerId: Number((after.dedup.bytes / after.dedup.ids).toFixed(1)),
  }),
);
const c0 = performance.now();
await log.close();
console.log(JSON.stringify({ closeSeconds: Number(((performance.now() - c0) / 1000).toFixed(2)), ...log.stats() }));
await rm(root, { recursive: true, force: true });
