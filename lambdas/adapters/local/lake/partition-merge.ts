/**
 * Merges the Parquet files of one lake partition into one file, each id once, with the SQL the
 * Glue compaction job runs in AWS (`sql/glue/compact-partition.sql`). It runs in the compaction
 * worker (a low-priority thread) with a DuckDB instance of its own, opened for the job and closed
 * after it, so neither its CPU nor its memory stays with the request path.
 *
 * It only writes `out` (fsynced); putting it in place and deleting the inputs is the caller's
 * step (partition-compaction.ts), under the lake's lock.
 */
import { open } from 'node:fs/promises';
import { DuckDBInstance } from '@duckdb/node-api';
import { LAKE_TABLES, type LakeTableName } from '../../../core/lake/tables.js';
import { loadSql } from '../../shared/sql-files.js';
import { quoteIdent, quoteLiteral } from '../duckdb/lake-database.js';

export interface PartitionMergeJob {
  readonly table: LakeTableName;
  /** The partition's Parquet files (absolute paths), listed by the caller. */
  readonly files: readonly string[];
  /** Where the merged file is written (a name the lake's readers do not glob). */
  readonly out: string;
  /** Where DuckDB spills a large partition. */
  readonly tempDirectory: string;
}

export interface PartitionMergeResult {
  /** Rows in the merged file. */
  readonly rows: number;
}

export async function mergePartitionFiles(job: PartitionMergeJob): Promise<PartitionMergeResult> {
  const idColumn = LAKE_TABLES[job.table].idColumn;
  const instance = await DuckDBInstance.create(':memory:', {
    threads: '1',
    memory_limit: '128MB',
    temp_directory: job.tempDirectory,
  });
  try {
    const c = await instance.connect();
    try {
      // union_by_name: files written before a column was added read it as NULL.
      await c.run(
        `CREATE TEMP VIEW partition_rows AS SELECT *, ${quoteIdent(idColumn)} AS row_id
         FROM read_parquet([${job.files.map(quoteLiteral).join(', ')}], hive_partitioning = false, union_by_name = true)`,
      );
      const sql = loadSql('glue/compact-partition', 'duckdb');
      const reader = await c.runAndReadAll(
        `COPY (SELECT * EXCLUDE (row_id, row_copy) FROM (\n${sql}\n)) TO ${quoteLiteral(job.out)} (FORMAT parquet, COMPRESSION snappy)`,
      );
      const rows = Number(reader.getRows()[0]?.[0] ?? 0);
      const handle = await open(job.out, 'r');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      return { rows };
    } finally {
      c.closeSync();
    }
  } finally {
    instance.closeSync();
  }
}
