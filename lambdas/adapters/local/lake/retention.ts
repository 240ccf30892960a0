/**
 * The lake's retention, locally: each table keeps its partitions for its `retentionDays`
 * (LAKE_TABLES: raw events and model_predictions 400 days, training_examples 90), counted from
 * the end of the partition's hour, i.e. from the events' own time. In AWS the bucket's lifecycle
 * rules expire the same prefixes, counted from each object's creation; the two agree because the
 * event path refuses events older than the retention.
 *
 * Expired partitions are deleted whole, while no query of this process reads the lake
 * (LakeDatabase.exclusive); a day directory left empty goes with its last hour.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { LAKE_TABLE_NAMES, LAKE_TABLES } from '../../../core/lake/tables.js';
import type { LakeDatabase } from '../duckdb/lake-database.js';
import { fsyncDir } from '../event-log/segment.js';
import { HOUR_MS, hourPartitions, sortedEntries } from './partitions.js';

const DAY_MS = 24 * HOUR_MS;

export interface LakeRetentionResult {
  /** Hour partitions deleted, by table (tables with none are left out). */
  readonly expired: Readonly<Record<string, number>>;
}

export async function expireLakePartitions(
  lakeDir: string,
  lake: Pick<LakeDatabase, 'exclusive'>,
  nowMs: number,
): Promise<LakeRetentionResult> {
  const expired: Record<string, number> = {};
  for (const table of LAKE_TABLE_NAMES) {
    const cutoff = nowMs - LAKE_TABLES[table].retentionDays * DAY_MS;
    // A day whose first hour is not old enough holds nothing old enough.
    const old = (await hourPartitions(lakeDir, table, (day) => day + HOUR_MS <= cutoff)).filter(
      (p) => p.start + HOUR_MS <= cutoff,
    );
    for (const dayDir of new Set(old.map((p) => p.dayDir))) {
      const hours = old.filter((p) => p.dayDir === dayDir);
      await lake.exclusive(async () => {
        for (const p of hours) await rm(p.dir, { recursive: true, force: true });
        if ((await sortedEntries(dayDir)).length === 0) {
          await rm(dayDir, { recursive: true, force: true });
          await fsyncDir(join(lakeDir, table));
        } else {
          await fsyncDir(dayDir);
        }
      });
      expired[table] = (expired[table] ?? 0) + hours.length;
    }
  }
  return { expired };
}
