import { join } from 'node:path';
import { type LakeTableName, partitionOf } from '../../../core/lake/tables.js';

/** The directory of a table's partition for an event time. */
export function partitionDir(lakeDir: string, table: LakeTableName, eventTime: Date): string {
  const { dt, hour } = partitionOf(eventTime);
  return join(lakeDir, table, `dt=${dt}`, `hour=${hour}`);
}
