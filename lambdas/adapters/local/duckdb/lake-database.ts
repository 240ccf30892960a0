/**
 * DuckDB over the local Parquet lake: the engine behind the local analytics routes and the
 * training-set build, running the same `sql/` texts Athena runs in AWS.
 *
 * Each lake table is a view named like the table (the Glue table's name), over
 * `<lakeDir>/<table>/dt=*\/hour=*\/*.parquet` with the Hive partition columns `dt` and `hour` as
 * text, so a query's `dt BETWEEN ? AND ?` prunes partitions exactly as partition projection does
 * in Athena. A table with no files yet is an empty view with the table's columns, so queries
 * work on an empty lake. Files are renamed into place whole, so a query never sees half a file.
 */
import { readdirSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance, type DuckDBValue } from '@duckdb/node-api';
import { LAKE_TABLE_NAMES, LAKE_TABLES, type LakeColumnType, type LakeTableName } from '../../../core/lake/tables.js';
import { DUCKDB_MACROS, loadSql } from '../../shared/sql-files.js';
import type { PartitionRange, SqlParam, SqlRow } from '../../shared/sql-values.js';
import { ReadWriteLock } from './read-write-lock.js';

// Shared with Athena (the same queries, the same values); re-exported for the local callers.
export type { PartitionRange, SqlParam, SqlRow };

export interface LakeDatabaseOptions {
  readonly lakeDir: string;
  /**
   * DuckDB worker threads (default 1: in the local server, queries share the machine with the
   * predict path, and a second core is the load balancer's job, not an analyst's).
   */
  readonly threads?: number;
  /** DuckDB's memory limit, e.g. '512MB' (default '256MB'; larger joins spill to disk). */
  readonly memoryLimit?: string;
  /** Where DuckDB spills (default: DuckDB's own temp directory). */
  readonly tempDirectory?: string;
}

const DUCKDB_TYPES: Readonly<Record<LakeColumnType, string>> = {
  string: 'VARCHAR',
  int64: 'BIGINT',
  double: 'DOUBLE',
  boolean: 'BOOLEAN',
  timestamp: 'TIMESTAMP',
};

/** A SQL string literal / identifier for text that cannot be a bound parameter (paths, names). */
export const quoteLiteral = (s: string) => `'${s.replaceAll("'", "''")}'`;
export const quoteIdent = (s: string) => `"${s.replaceAll('"', '""')}"`;

/** True when the table has at least one Parquet file in a partition (stops at the first). */
function hasParquetFiles(tableDir: string): boolean {
  const dirs = (dir: string, prefix: string) => {
    try {
      return readdirSync(dir, { withFileTypes: true })
        .filter((e) => e.isDirectory() && e.name.startsWith(prefix))
        .map((e) => join(dir, e.name));
    } catch {
      return [];
    }
  };
  for (const dt of dirs(tableDir, 'dt=')) {
    for (const hour of dirs(dt, 'hour=')) {
      if (readdirSync(hour).some((f) => f.endsWith('.parquet'))) return true;
    }
  }
  return false;
}

/** True when the directory holds a Parquet file (a missing directory holds none). */
async function hasParquetIn(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).some((f) => f.endsWith('.parquet'));
  } catch {
    return false;
  }
}

/** A JS value DuckDB returned, as JSON-friendly data (BIGINTs become numbers; times ISO text). */
export function plain(v: unknown): string | number | boolean | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  return String(v);
}

/** Rows as DuckDB's reader returns them, with every value made plain (see `plain`). */
export function plainRows(objects: readonly Record<string, unknown>[]): SqlRow[] {
  return objects.map((row) => {
    const out: SqlRow = {};
    for (const [k, v] of Object.entries(row)) out[k] = plain(v);
    return out;
  });
}

export class LakeDatabase {
  /** Tables whose view reads files; an empty table's view is re-checked on each query. */
  private readonly populated = new Set<LakeTableName>();
  /** Set when files may have been deleted: the next query re-checks every table's view. */
  private recheck = false;
  /** Queries share it; replacing a partition's files takes it alone (`exclusive`). */
  private readonly lock = new ReadWriteLock();
  /** Replacing a shared view is a catalog write: two connections doing it at once conflict. */
  private viewChanges: Promise<unknown> = Promise.resolve();

  readonly lakeDir: string;
  private instance: Promise<DuckDBInstance> | undefined;
  private opened: DuckDBInstance | undefined;
  private closed = false;

  private constructor(private readonly options: LakeDatabaseOptions) {
    this.lakeDir = options.lakeDir;
  }

  /** Opens DuckDB now (a failure to open surfaces here). */
  static async open(options: LakeDatabaseOptions): Promise<LakeDatabase> {
    const db = new LakeDatabase(options);
    await db.ready();
    return db;
  }

  /**
   * Opens DuckDB at the first query: a server that never answers an analytics request does not
   * carry its memory (about 25 MB resident once open).
   */
  static lazy(options: LakeDatabaseOptions): LakeDatabase {
    return new LakeDatabase(options);
  }

  private ready(): Promise<DuckDBInstance> {
    if (this.closed) return Promise.reject(new Error('the lake database is closed'));
    this.instance ??= this.create().catch((err: unknown) => {
      // Not cached: the next query tries again (a full temp disk, say, may have been freed).
      this.instance = undefined;
      throw err;
    });
    return this.instance;
  }

  private async create(): Promise<DuckDBInstance> {
    const { options } = this;
    const instance = await DuckDBInstance.create(':memory:', {
      threads: String(options.threads ?? 1),
      memory_limit: options.memoryLimit ?? '256MB',
      ...(options.tempDirectory ? { temp_directory: options.tempDirectory } : {}),
    });
    const connection = await instance.connect();
    try {
      // Event times are plain TIMESTAMPs holding UTC; a query that meets a TIMESTAMPTZ (now())
      // must read it in UTC too, whatever the machine's zone.
      await connection.run("SET GLOBAL TimeZone = 'UTC'");
      for (const macro of DUCKDB_MACROS) await connection.run(macro);
      for (const table of LAKE_TABLE_NAMES) await this.createView(connection, table, []);
    } finally {
      connection.closeSync();
    }
    if (this.closed) {
      instance.closeSync();
      throw new Error('the lake database is closed');
    }
    this.opened = instance;
    return instance;
  }

  /** Runs `sql/<name>.sql` with its positional parameters. */
  async queryFile(name: string, params: readonly SqlParam[] = []): Promise<SqlRow[]> {
    return this.query(loadSql(name, 'duckdb'), params);
  }

  /** Runs a query with positional `?` parameters (bound, never spliced into the text). */
  async query(sql: string, params: readonly SqlParam[] = []): Promise<SqlRow[]> {
    return this.withConnection(async (connection) => {
      const reader = await connection.runAndReadAll(sql, params as DuckDBValue[]);
      return plainRows(reader.getRowObjectsJS());
    });
  }

  /**
   * Points this connection's views of the given tables at the partition directories of the given
   * hours only (temporary views, which shadow the shared ones for this connection alone). The
   * shared views list every file of the lake on each query, which grows with the lake's age;
   * a query that knows its partitions lists a few directories instead. Same rows either way.
   */
  async narrowViews(connection: DuckDBConnection, ranges: readonly PartitionRange[]): Promise<void> {
    const HOUR_MS = 3_600_000;
    for (const [table, first, last] of ranges) {
      const dirs: string[] = [];
      const end = Math.floor(last.getTime() / HOUR_MS) * HOUR_MS;
      for (let t = Math.floor(first.getTime() / HOUR_MS) * HOUR_MS; t <= end; t += HOUR_MS) {
        const iso = new Date(t).toISOString();
        dirs.push(join(this.lakeDir, table, `dt=${iso.slice(0, 10)}`, `hour=${iso.slice(11, 13)}`));
      }
      // Listed off the event loop: a 92-day range is thousands of directories.
      const present = await Promise.all(dirs.map(hasParquetIn));
      const globs = dirs.filter((_, i) => present[i]).map((dir) => join(dir, '*.parquet'));
      await this.createView(connection, table, globs, 'TEMP');
    }
  }

  /** Runs statements that return nothing useful (COPY, CREATE TABLE AS ...). */
  async exec(sql: string, params: readonly SqlParam[] = []): Promise<void> {
    await this.withConnection(async (connection) => {
      await connection.run(sql, params as DuckDBValue[]);
    });
  }

  /**
   * A connection with the lake's views up to date. Each caller gets its own connection (DuckDB
   * runs one query per connection at a time); they share the instance's cache and threads.
   */
  async withConnection<T>(fn: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
    return this.lock.read(() => this.connected(fn));
  }

  /**
   * Runs `fn` while no query of this process reads the lake (those running finish first; new
   * ones wait): for replacing a partition's files, which a query that listed them would fail on.
   */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.lock.write(async () => {
      try {
        return await fn();
      } finally {
        this.filesRemoved();
      }
    });
  }

  /**
   * Says files may have left the lake (an erasure or a merge deleted some): the next query checks
   * every table again, so a table left without files reads as empty instead of failing on a
   * pattern that matches nothing.
   */
  filesRemoved(): void {
    this.populated.clear();
    this.recheck = true;
  }

  private async connected<T>(fn: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
    const connection = await (await this.ready()).connect();
    try {
      const recheck = this.recheck;
      this.recheck = false;
      const filled = LAKE_TABLE_NAMES.filter(
        (table) => !this.populated.has(table) && hasParquetFiles(join(this.lakeDir, table)),
      );
      const emptied = recheck ? LAKE_TABLE_NAMES.filter((table) => !filled.includes(table)) : [];
      if (filled.length > 0 || emptied.length > 0) {
        const change = this.viewChanges.then(async () => {
          for (const table of emptied) if (!this.populated.has(table)) await this.createView(connection, table, []);
          for (const table of filled) {
            if (this.populated.has(table)) continue;
            await this.createView(connection, table, [join(this.lakeDir, table, 'dt=*', 'hour=*', '*.parquet')]);
            this.populated.add(table);
          }
        });
        this.viewChanges = change.catch(() => undefined);
        await change;
      }
      return await fn(connection);
    } finally {
      connection.closeSync();
    }
  }

  close(): void {
    this.closed = true;
    this.opened?.closeSync();
    this.opened = undefined;
  }

  /** The table's view over these globs (none: an empty view with the table's columns). */
  private async createView(
    connection: DuckDBConnection,
    table: LakeTableName,
    globs: readonly string[],
    scope: '' | 'TEMP' = '',
  ): Promise<void> {
    const def = LAKE_TABLES[table];
    const columns = def.columns.map((c) => `CAST(NULL AS ${DUCKDB_TYPES[c.type]}) AS ${quoteIdent(c.name)}`);
    columns.push('CAST(NULL AS VARCHAR) AS dt', 'CAST(NULL AS VARCHAR) AS hour');
    const empty = `SELECT ${columns.join(', ')} WHERE false`;
    // union_by_name: files written before a column was added read it as NULL, as long as one
    // file has it; the empty relation in front gives the view every column even when none does
    // (a range older than the column), as a Glue table does in Athena. DuckDB drops the empty
    // side and still prunes partitions through the union.
    const select =
      globs.length > 0
        ? `${empty} UNION ALL BY NAME SELECT * FROM read_parquet([${globs.map(quoteLiteral).join(', ')}], hive_partitioning = true, hive_types_autocast = false, union_by_name = true)`
        : empty;
    await connection.run(`CREATE OR REPLACE ${scope} VIEW ${quoteIdent(table)} AS ${select}`);
  }
}
