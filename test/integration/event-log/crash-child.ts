/**
 * Child process of crash.test.ts: appends rows in a loop from several concurrent writers and
 * prints `<table> <id>` for each row whose append was acknowledged (duplicates included: their
 * original is durable too), until it is killed.
 *
 * Usage: tsx crash-child.ts <logDir> <lakeDir>
 */
import { DurableEventLog } from '../../../lambdas/adapters/local/event-log/durable-event-log.js';
import type { LakeRow } from '../../../lambdas/core/ports.js';
import { click, impression } from './rows.js';

const [logDir, lakeDir] = process.argv.slice(2);
if (!logDir || !lakeDir) throw new Error('usage: crash-child.ts <logDir> <lakeDir>');

const log = await DurableEventLog.open({ dir: logDir, lakeDir, maxSegmentBytes: 16 * 1024, maxSegmentAgeMs: 50 });
process.stdout.write('ready\n');

const start = Date.UTC(2024, 4, 1, 10);
let next = 0;

function rowsFor(i: number): LakeRow[] {
  const at = new Date(start + i * 7_000).toISOString();
  const rows = [impression(`imp-${i}`, at), click(`clk-${i}`, at, i % 3 === 0)];
  if (i >= 10 && i % 5 === 0) rows.push(impression(`imp-${i - 10}`, at)); // a replay
  return rows;
}

function idOf(row: LakeRow): string {
  return String(row.table === 'clicks' ? row.row.click_id : row.row.impression_id);
}

async function writer(): Promise<void> {
  for (;;) {
    const rows = rowsFor(next++);
    await log.append(rows);
    process.stdout.write(`${rows.map((r) => `${r.table} ${idOf(r)}`).join('\n')}\n`);
  }
}

for (let w = 0; w < 8; w++) {
  writer().catch((err: unknown) => {
    process.stderr.write(`writer failed: ${String(err)}\n`);
    process.exit(1);
  });
}
