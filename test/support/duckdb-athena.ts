/**
 * A fake Athena for tests: an aws-sdk-client-mock AthenaClient whose queries run on a real DuckDB
 * LakeDatabase over a fixture lake, answering in Athena's wire shapes, so the Athena adapter can
 * run the shared contract suites against the same lake as the DuckDB adapter.
 *
 * - StartQueryExecution checks the workgroup (unknown: InvalidRequestException, as Athena) and the
 *   context database (another: the query FAILS with SCHEMA_NOT_FOUND, as Athena), puts each
 *   ExecutionParameter literal in place of the next `?` outside strings, quoted identifiers and
 *   comments (Athena binds them as constant expressions; a count mismatch is an
 *   InvalidRequestException), and runs the text on DuckDB after the same shim the DuckDB adapter
 *   applies to the same file: DUCKDB_MACROS (defined by LakeDatabase when it opens) and
 *   DIALECT_REWRITES (`toDialect(text, 'duckdb')`). Nothing else is rewritten: the Athena text
 *   names the tables unqualified, resolved in the QueryExecutionContext database, and the
 *   LakeDatabase's views carry the Glue tables' names.
 * - GetQueryExecution answers QUEUED, then RUNNING (`runningPolls` times in all), then SUCCEEDED,
 *   or FAILED with an AthenaError of category USER (2) carrying DuckDB's message; CANCELLED after
 *   StopQueryExecution.
 * - GetQueryResults pages the rows MaxResults at a time (default 1 000, as Athena), the first page
 *   starting with the header row (counted in MaxResults), with an opaque NextToken; every value is
 *   a VarCharValue string as Trino renders it (DOUBLEs like Java's Double.toString, TIMESTAMPs
 *   `YYYY-MM-DD HH:MM:SS.mmm`), NULL an empty Datum, and ResultSetMetadata.ColumnInfo carries
 *   Athena's type names (DuckDB's HUGEINT, its sum of BIGINTs, is Trino's bigint).
 *
 * What it cannot show: that Trino evaluates the text as DuckDB does (function semantics,
 * approximate counts, integer division). It proves the adapter's protocol and the claim that one
 * SQL text, through one shim, serves both engines.
 */
import { randomUUID } from 'node:crypto';
import {
  AthenaClient,
  type ColumnInfo,
  type Datum,
  GetQueryExecutionCommand,
  type GetQueryExecutionCommandInput,
  GetQueryResultsCommand,
  type GetQueryResultsCommandInput,
  InvalidRequestException,
  type QueryExecutionState,
  StartQueryExecutionCommand,
  type StartQueryExecutionCommandInput,
  StopQueryExecutionCommand,
  type StopQueryExecutionCommandInput,
} from '@aws-sdk/client-athena';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import type { LakeDatabase } from '../../lambdas/adapters/local/duckdb/lake-database.js';
import { toDialect } from '../../lambdas/adapters/shared/sql-files.js';

export interface DuckDbAthenaOptions {
  readonly workgroup: string;
  /** The Glue database queries must name in their QueryExecutionContext. */
  readonly database: string;
  /** GetQueryExecution answers before the final state (first QUEUED, then RUNNING). Default 2. */
  readonly runningPolls?: number;
}

interface Result {
  readonly columns: ColumnInfo[];
  readonly rows: Datum[][];
}

interface Execution {
  readonly id: string;
  /** The text DuckDB ran: the shimmed query with the literals in place. */
  readonly sql: string;
  readonly outcome: Promise<{ ok: true; result: Result } | { ok: false; message: string }>;
  polls: number;
  cancelled: boolean;
  final?: { state: 'SUCCEEDED'; result: Result } | { state: 'FAILED'; message: string };
}

export interface DuckDbAthena {
  readonly client: AthenaClient;
  readonly mock: AwsClientStub<AthenaClient>;
  /** Every query started, in order. */
  readonly executions: readonly Pick<Execution, 'id' | 'sql'>[];
  restore(): void;
}

const invalid = (message: string) => new InvalidRequestException({ message, $metadata: { httpStatusCode: 400 } });

/** Each `?` outside strings, quoted identifiers and comments replaced by the next literal. */
export function bindParameters(sql: string, literals: readonly string[]): string {
  let out = '';
  let next = 0;
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    const quoted = (quote: string) => {
      let j = i + 1;
      for (;;) {
        const k = sql.indexOf(quote, j);
        if (k < 0) return sql.length;
        if (sql[k + 1] === quote) j = k + 2;
        else return k + 1;
      }
    };
    let end: number;
    if (c === "'" || c === '"') end = quoted(c);
    else if (c === '-' && sql[i + 1] === '-') end = sql.includes('\n', i) ? sql.indexOf('\n', i) : sql.length;
    else if (c === '/' && sql[i + 1] === '*') end = sql.includes('*/', i) ? sql.indexOf('*/', i) + 2 : sql.length;
    else if (c === '?') {
      // Counted to the end, then refused below: the message gives both counts.
      out += literals[next] ?? '?';
      next++;
      i++;
      continue;
    } else end = i + 1;
    out += sql.slice(i, end);
    i = end;
  }
  if (next !== literals.length) throw invalid(`The query has ${next} parameters; ${literals.length} were given.`);
  return out;
}

/** A double as Java's Double.toString writes it (what Trino's results hold). */
export function javaDouble(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const abs = Math.abs(x);
  if (abs >= 1e-3 && abs < 1e7) {
    const s = String(x);
    return s.includes('.') ? s : `${s}.0`;
  }
  const [mantissa, exponent] = x.toExponential().split('e') as [string, string];
  return `${mantissa.includes('.') ? mantissa : `${mantissa}.0`}E${Number(exponent)}`;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** Athena's type name, precision and scale for a DuckDB result type. */
function athenaType(duckdb: string): { type: string; precision: number; scale: number } {
  const base = duckdb.replace(/\(.*$/, '').trim().toUpperCase();
  switch (base) {
    case 'VARCHAR':
      return { type: 'varchar', precision: 2147483647, scale: 0 };
    case 'BIGINT':
    case 'HUGEINT':
    case 'UBIGINT':
      return { type: 'bigint', precision: 19, scale: 0 };
    case 'INTEGER':
    case 'SMALLINT':
    case 'TINYINT':
    case 'UINTEGER':
      return { type: 'integer', precision: 10, scale: 0 };
    case 'DOUBLE':
      return { type: 'double', precision: 17, scale: 0 };
    case 'FLOAT':
      return { type: 'real', precision: 9, scale: 0 };
    case 'BOOLEAN':
      return { type: 'boolean', precision: 0, scale: 0 };
    case 'TIMESTAMP':
      return { type: 'timestamp', precision: 3, scale: 0 };
    case 'DATE':
      return { type: 'date', precision: 0, scale: 0 };
    case 'DECIMAL': {
      const [, p, s] = /\((\d+),\s*(\d+)\)/.exec(duckdb) ?? [];
      return { type: 'decimal', precision: Number(p ?? 38), scale: Number(s ?? 0) };
    }
    default:
      throw new Error(`duckdb-athena: no Athena type for DuckDB's ${duckdb}`);
  }
}

/** One value as Trino renders it in a result set; undefined for NULL. */
function render(type: string, value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  switch (type) {
    case 'double':
    case 'real':
      return javaDouble(Number(value));
    case 'timestamp': {
      const d = value as Date;
      return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}`;
    }
    case 'date':
      return (value as Date).toISOString().slice(0, 10);
    default:
      return String(value);
  }
}

async function runOnDuckDb(db: LakeDatabase, sql: string): Promise<Result> {
  return db.withConnection(async (connection) => {
    const reader = await connection.runAndReadAll(sql);
    const types = reader.columnTypes().map((t) => athenaType(t.toString()));
    const columns: ColumnInfo[] = reader.columnNames().map((name, i) => ({
      CatalogName: 'hive',
      SchemaName: '',
      TableName: '',
      Name: name,
      Label: name,
      Type: types[i]!.type,
      Precision: types[i]!.precision,
      Scale: types[i]!.scale,
      Nullable: 'UNKNOWN',
      CaseSensitive: types[i]!.type === 'varchar',
    }));
    const rows = reader
      .getRowsJS()
      .map((row) => row.map((v, i) => ({ VarCharValue: render(types[i]!.type, v) }) as Datum))
      // Athena leaves VarCharValue out of a NULL's Datum.
      .map((row) => row.map((d) => (d.VarCharValue === undefined ? {} : d)));
    return { columns, rows };
  });
}

const token = (id: string, offset: number) => Buffer.from(JSON.stringify({ id, offset })).toString('base64url');

function offsetOf(id: string, nextToken: string): number {
  try {
    const parsed = JSON.parse(Buffer.from(nextToken, 'base64url').toString()) as { id?: unknown; offset?: unknown };
    if (parsed.id === id && typeof parsed.offset === 'number') return parsed.offset;
  } catch {
    // Falls through to Athena's answer for a token it did not issue.
  }
  throw invalid('The NextToken is not valid for this query.');
}

/** A fake Athena over `db`: `client` goes to the adapter under test. */
export function duckDbAthena(db: LakeDatabase, options: DuckDbAthenaOptions): DuckDbAthena {
  const client = new AthenaClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
  });
  const mock = mockClient(client);
  const executions = new Map<string, Execution>();
  const runningPolls = options.runningPolls ?? 2;

  const find = (id: string | undefined) => {
    const execution = id === undefined ? undefined : executions.get(id);
    if (!execution) throw invalid(`QueryExecution ${id} was not found`);
    return execution;
  };

  mock.on(StartQueryExecutionCommand).callsFake(async (input: StartQueryExecutionCommandInput) => {
    if (input.WorkGroup !== options.workgroup) throw invalid(`WorkGroup ${input.WorkGroup} is not found.`);
    const sql = bindParameters(toDialect(input.QueryString ?? '', 'duckdb'), input.ExecutionParameters ?? []);
    const id = randomUUID();
    const database = input.QueryExecutionContext?.Database;
    const outcome: Execution['outcome'] =
      database === options.database
        ? runOnDuckDb(db, sql).then(
            (result) => ({ ok: true as const, result }),
            (err: unknown) => ({ ok: false as const, message: (err as Error).message }),
          )
        : Promise.resolve({ ok: false as const, message: `SCHEMA_NOT_FOUND: Schema '${database}' does not exist` });
    executions.set(id, { id, sql, outcome, polls: 0, cancelled: false });
    return { QueryExecutionId: id };
  });

  mock.on(GetQueryExecutionCommand).callsFake(async (input: GetQueryExecutionCommandInput) => {
    const execution = find(input.QueryExecutionId);
    execution.polls++;
    let state: QueryExecutionState;
    let failure: string | undefined;
    if (execution.cancelled) state = 'CANCELLED';
    else if (execution.final === undefined && execution.polls <= runningPolls) {
      state = execution.polls === 1 ? 'QUEUED' : 'RUNNING';
    } else {
      const outcome = await execution.outcome;
      execution.final = outcome.ok
        ? { state: 'SUCCEEDED', result: outcome.result }
        : { state: 'FAILED', message: outcome.message };
      state = execution.final.state;
      if (execution.final.state === 'FAILED') failure = execution.final.message;
    }
    return {
      QueryExecution: {
        QueryExecutionId: execution.id,
        Query: execution.sql,
        StatementType: 'DML',
        WorkGroup: options.workgroup,
        QueryExecutionContext: { Database: options.database, Catalog: 'awsdatacatalog' },
        EngineVersion: { SelectedEngineVersion: 'AUTO', EffectiveEngineVersion: 'Athena engine version 3' },
        Status: {
          State: state,
          SubmissionDateTime: new Date('2026-12-02T00:00:00Z'),
          ...(failure === undefined
            ? {}
            : {
                StateChangeReason: failure,
                AthenaError: { ErrorCategory: 2, ErrorType: 1100, Retryable: false, ErrorMessage: failure },
              }),
        },
      },
    };
  });

  mock.on(GetQueryResultsCommand).callsFake(async (input: GetQueryResultsCommandInput) => {
    const execution = find(input.QueryExecutionId);
    if (execution.final?.state !== 'SUCCEEDED') {
      throw invalid(`Query has not yet finished. Current state: ${execution.final?.state ?? 'RUNNING'}`);
    }
    const max = input.MaxResults ?? 1_000;
    if (max < 1 || max > 1_000) throw invalid('MaxResults must be between 1 and 1000.');
    const { columns, rows } = execution.final.result;
    const offset = input.NextToken === undefined ? 0 : offsetOf(execution.id, input.NextToken);
    const header = columns.map((c) => ({ VarCharValue: c.Name }));
    const pageRows = offset === 0 ? [header, ...rows.slice(0, max - 1)] : rows.slice(offset, offset + max);
    const nextOffset = offset === 0 ? max - 1 : offset + max;
    return {
      UpdateCount: 0,
      ResultSet: { Rows: pageRows.map((Data) => ({ Data })), ResultSetMetadata: { ColumnInfo: columns } },
      ...(nextOffset < rows.length ? { NextToken: token(execution.id, nextOffset) } : {}),
    };
  });

  mock.on(StopQueryExecutionCommand).callsFake(async (input: StopQueryExecutionCommandInput) => {
    const execution = find(input.QueryExecutionId);
    if (execution.final === undefined) execution.cancelled = true;
    return {};
  });

  return {
    client,
    mock,
    get executions() {
      return [...executions.values()].map(({ id, sql }) => ({ id, sql }));
    },
    restore: () => mock.restore(),
  };
}
