import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type LakeTableName, partitionOf } from '../../../core/lake/tables.js';

/** The directory of a table's partition for an event time. */
export function partitionDir(lakeDir: string, table: LakeTableName, eventTime: Date): string {
  const { dt, hour } = partitionOf(eventTime);
  return join(lakeDir, table, `dt=${dt}`, `hour=${hour}`);
}

/** A directory's entries, sorted; none when it does not exist (a table or day not written yet). */
export async function sortedEntries(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}
