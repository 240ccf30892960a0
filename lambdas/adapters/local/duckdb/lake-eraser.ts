/**
 * The erasure rewrite of the local lake (DELETE /users/{user_id}): every Parquet file holding a
 * row of the user is rewritten without it, with the SQL the Glue job runs in AWS
 * (`sql/glue/rewrite-partition.sql`), and renamed over the old file (atomic: a reader sees the
 * old file or the new one, never half). A file left empty is deleted.
 *
 * Tables with a user_id column (ad_impressions, clicks, model_predictions, suspicious_events) are
 * erased by pseudonym; training_examples has no user column, so its rows go by the user's
 * prediction ids, read from model_predictions before that table is rewritten.
 *
 * Run it after the event log and the prediction export are flushed (the erasers' order in the
 * composition root), so that no acknowledged row of the user is still on its way to the lake.
 */
import { readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { LAKE_TABLES, type LakeTableName } from '../../../core/lake/tables.js';
import type { ErasureTarget, StoreErasure, UserDataEraser } from '../../../core/ports.js';
import { loadSql } from '../../shared/sql-files.js';
import { fsyncDir } from '../event-log/segment.js';
import { type LakeDatabase, quoteLiteral } from './lake-database.js';

/** The lake tables erased by their user_id column, in this order. */
export const USER_TABLES = ['ad_impressions', 'clicks', 'model_predictions', 'suspicious_events'] as const;
/** Derived from model_predictions: erased by the user's prediction ids. */
const DERIVED_TABLE: LakeTableName = 'training_examples';

const TRAINING_EXAMPLES_SQL = `SELECT r.* FROM partition_rows r
WHERE NOT EXISTS (SELECT 1 FROM erased_predictions e WHERE e.prediction_id = r.prediction_id)`;

async function parquetFiles(tableDir: string): Promise<string[]> {
  try {
    const names = await readdir(tableDir, { recursive: true });
    return names.filter((n) => n.endsWith('.parquet')).map((n) => join(tableDir, n));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

const filesOf = (paths: readonly string[]) =>
  `read_parquet([${paths.map(quoteLiteral).join(', ')}], filename = true, hive_partitioning = false, union_by_name = true)`;

interface Hit {
  readonly file: string;
  readonly rows: number;
  readonly first: Date | null;
  readonly last: Date | null;
}

export class DuckDbLakeEraser implements UserDataEraser {
  readonly store = 'lake';

  constructor(private readonly lake: LakeDatabase) {}

  async erase(target: ErasureTarget): Promise<StoreErasure> {
    const removed: Record<string, number> = {};
    let filesRewritten = 0;
    let filesDeleted = 0;
    let first: number | null = null;
    let last: number | null = null;
    const rewriteSql = loadSql('glue/rewrite-partition', 'duckdb');
    await this.lake.withConnection(async (c) => {
      await c.run('CREATE OR REPLACE TEMP TABLE erased_users AS SELECT CAST($1 AS VARCHAR) AS user_id', [
        target.userKey,
      ]);
      await c.run('CREATE OR REPLACE TEMP TABLE erased_predictions (prediction_id VARCHAR)');
      const predictionFiles = await parquetFiles(join(this.lake.lakeDir, 'model_predictions'));
      if (predictionFiles.length > 0) {
        await c.run(
          `INSERT INTO erased_predictions SELECT DISTINCT prediction_id FROM ${filesOf(predictionFiles)}
           WHERE user_id IN (SELECT user_id FROM erased_users)`,
        );
      }
      const tables: [LakeTableName, string, string][] = [
        ...USER_TABLES.map((t): [LakeTableName, string, string] => [
          t,
          'user_id IN (SELECT user_id FROM erased_users)',
          rewriteSql,
        ]),
        [DERIVED_TABLE, 'prediction_id IN (SELECT prediction_id FROM erased_predictions)', TRAINING_EXAMPLES_SQL],
      ];
      for (const [table, where, sql] of tables) {
        const files = await parquetFiles(join(this.lake.lakeDir, table));
        removed[table] = 0;
        if (files.length === 0) continue;
        const time = LAKE_TABLES[table].eventTimeColumn;
        const hits = await rows<Hit>(
          c,
          `SELECT filename AS file, CAST(count(*) AS INTEGER) AS rows, min("${time}") AS first, max("${time}") AS last
           FROM ${filesOf(files)} WHERE ${where} GROUP BY filename ORDER BY filename`,
        );
        for (const hit of hits) {
          const kept = await this.rewrite(c, hit.file, sql, target.erasureId);
          removed[table] += hit.rows;
          if (kept === 0) filesDeleted++;
          else filesRewritten++;
          for (const t of [hit.first, hit.last]) {
            if (t === null) continue;
            const ms = new Date(t).getTime();
            first = first === null ? ms : Math.min(first, ms);
            last = last === null ? ms : Math.max(last, ms);
          }
        }
      }
    });
    // A table left without files must read as empty, not fail on a pattern that matches nothing.
    if (filesDeleted > 0) this.lake.filesRemoved();
    removed.files_rewritten = filesRewritten;
    removed.files_deleted = filesDeleted;
    return {
      removed,
      detail:
        'Parquet files holding the user rewritten without their rows by sql/glue/rewrite-partition.sql (training_examples by the prediction ids), renamed over the old files.',
      span: first !== null && last !== null ? { from: new Date(first), to: new Date(last) } : null,
    };
  }

  /** Rewrites one file without the erased rows; returns the rows kept (0: the file is deleted). */
  private async rewrite(c: DuckDBConnection, file: string, sql: string, erasureId: string): Promise<number> {
    await c.run(
      `CREATE OR REPLACE TEMP VIEW partition_rows AS SELECT * FROM read_parquet(${quoteLiteral(file)}, hive_partitioning = false)`,
    );
    const [count] = await rows<{ n: number }>(c, `SELECT CAST(count(*) AS INTEGER) AS n FROM (\n${sql}\n)`);
    const kept = count?.n ?? 0;
    const dir = join(file, '..');
    if (kept === 0) {
      await rm(file, { force: true });
    } else {
      const tmp = `${file}.${erasureId}.tmp`;
      await c.run(`COPY (\n${sql}\n) TO ${quoteLiteral(tmp)} (FORMAT parquet, COMPRESSION snappy)`);
      await rename(tmp, file);
    }
    await fsyncDir(dir);
    return kept;
  }
}

async function rows<T>(c: DuckDBConnection, sql: string, params: DuckDBValue[] = []): Promise<T[]> {
  const reader = await c.runAndReadAll(sql, params);
  return reader.getRowObjectsJS() as T[];
}
