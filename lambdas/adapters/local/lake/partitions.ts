import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type LakeTableName, partitionOf } from '../../../core/lake/tables.js';

/** The directory of a table's partition for an event time. */
export function partitionDir(lakeDir: string, table: LakeTableName, eventTime: Date): string {
  const { dt, hour } = partitionOf(eventTime);
  return join(lakeDir, table, `dt=${dt}`, `hour=${hour}`);
}

export const HOUR_MS = 3_600_000;
const DAY_DIR = /^dt=(\d{4}-\d{2}-\d{2})$/;
const HOUR_DIR = /^hour=(\d{2})$/;

/** A directory's entries, sorted; none when it does not exist (a table or day not written yet). */
export async function sortedEntries(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw err;
  }
}

/** One `dt=…/hour=…` directory of a lake table. */
export interface HourPartition {
  /** The partition's directory. */
  readonly dir: string;
  /** Its `dt=` directory. */
  readonly dayDir: string;
  /** The start of its hour (ms since the epoch, UTC). */
  readonly start: number;
}

/**
 * The hour partitions of a table on disk, in time order. Days for which `wantDay` (given the
 * day's start, ms) answers false are not listed at all; entries that are not partition
 * directories are ignored.
 */
export async function hourPartitions(
  lakeDir: string,
  table: LakeTableName,
  wantDay: (dayStart: number) => boolean = () => true,
): Promise<HourPartition[]> {
  const out: HourPartition[] = [];
  const tableDir = join(lakeDir, table);
  for (const dayName of await sortedEntries(tableDir)) {
    const day = DAY_DIR.exec(dayName)?.[1];
    const dayStart = day === undefined ? Number.NaN : Date.parse(`${day}T00:00:00Z`);
    if (!Number.isFinite(dayStart) || !wantDay(dayStart)) continue;
    const dayDir = join(tableDir, dayName);
    for (const hourName of await sortedEntries(dayDir)) {
      const hour = HOUR_DIR.exec(hourName)?.[1];
      if (hour !== undefined)
        out.push({ dir: join(dayDir, hourName), dayDir, start: dayStart + Number(hour) * HOUR_MS });
    }
  }
  return out;
}
