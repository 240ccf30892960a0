/**
 * Reads the id column of the lake's most recent partitions, so that the event log's
 * de-duplication window survives a restart (a replay sent just after a restart is still refused).
 * Best effort and bounded: only partitions whose event hour ends after `sinceMs`, newest first,
 * and only whole files while their row counts fit in `maxIds`.
 */
import { join } from 'node:path';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { LAKE_TABLE_NAMES, LAKE_TABLES, type LakeTableName } from '../../../core/lake/tables.js';
import { HOUR_MS, hourPartitions, sortedEntries } from './partitions.js';

export interface RecentLakeIdsOptions {
  /** Partitions whose hour ended before this instant (ms since epoch) are skipped. */
  readonly sinceMs: number;
  /** Stop before reading a file that would take the total past this many ids. */
  readonly maxIds: number;
  readonly onId: (table: LakeTableName, id: string) => void;
  /** A file that cannot be read is skipped and reported here. */
  readonly onError?: (path: string, err: unknown) => void;
}

interface Candidate {
  readonly table: LakeTableName;
  readonly path: string;
  readonly hourStart: number;
  readonly name: string;
}

/** Calls `onId` for the ids of recent lake files; resolves with what it read. */
export async function readRecentLakeIds(
  lakeDir: string,
  options: RecentLakeIdsOptions,
): Promise<{ files: number; ids: number }> {
  const candidates: Candidate[] = [];
  for (const table of LAKE_TABLE_NAMES) {
    const partitions = await hourPartitions(lakeDir, table, (day) => day + 24 * HOUR_MS > options.sinceMs);
    for (const { dir, start } of partitions) {
      if (start + HOUR_MS <= options.sinceMs) continue;
      for (const name of await sortedEntries(dir)) {
        if (name.endsWith('.parquet')) candidates.push({ table, path: join(dir, name), hourStart: start, name });
      }
    }
  }
  candidates.sort((a, b) => b.hourStart - a.hourStart || (a.name < b.name ? 1 : a.name > b.name ? -1 : 0));

  let files = 0;
  let ids = 0;
  for (const candidate of candidates) {
    const idColumn = LAKE_TABLES[candidate.table].idColumn;
    let found: string[];
    try {
      const file = await asyncBufferFromFile(candidate.path);
      const metadata = await parquetMetadataAsync(file);
      if (ids + Number(metadata.num_rows) > options.maxIds) break;
      const records = await parquetReadObjects({ file, metadata, columns: [idColumn] });
      found = records.map((record) => record[idColumn]).filter((id): id is string => typeof id === 'string');
    } catch (err) {
      options.onError?.(candidate.path, err);
      continue;
    }
    for (const id of found) options.onId(candidate.table, id);
    files++;
    ids += found.length;
  }
  return { files, ids };
}
