import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LakeDatabase, type SqlRow } from '../../../lambdas/adapters/local/duckdb/lake-database.js';
import type { LakeRecord } from '../../../lambdas/adapters/local/lake/parquet-writer.js';
import { loadSql } from '../../../lambdas/adapters/shared/sql-files.js';
import { at, click, impression, writeTable } from '../training-set/lake-fixture.js';

const execFileAsync = promisify(execFile);
// Bytecode goes to a temporary folder, not into glue-jobs/__pycache__.
const python = (args: string[]) =>
  execFileAsync('python3', args, {
    env: { ...process.env, PYTHONPYCACHEPREFIX: join(tmpdir(), 'adclick-glue-pycache') },
  });
const ROOT = resolve(import.meta.dirname, '../../..');
const JOBS = join(ROOT, 'glue-jobs');
const jobFiles = readdirSync(JOBS).filter((f) => f.endsWith('.py'));

const quote = (s: string) => `'${s.replaceAll("'", "''")}'`;

/** The Parquet files of one partition of a table, as the Glue job lists them. */
function partitionFiles(lakeDir: string, table: string, dt: string, hour: string): string[] {
  const dir = join(lakeDir, table, `dt=${dt}`, `hour=${hour}`);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.parquet'))
    .map((f) => join(dir, f));
}

const files = (paths: readonly string[]) =>
  `read_parquet([${paths.map(quote).join(', ')}], hive_partitioning = false, union_by_name = true)`;

describe('the Glue jobs', () => {
  it('compile', async () => {
    // Act / Assess: py_compile exits non-zero on a syntax error.
    expect(jobFiles).toEqual(expect.arrayContaining(['compact_partition.py', 'rewrite_partition.py', 'lake_jobs.py']));
    await python(['-m', 'py_compile', ...jobFiles.map((f) => join(JOBS, f))]);
  });

  it('read only SQL files that exist in sql/glue', () => {
    // Act
    const names = jobFiles.flatMap((f) =>
      [...readFileSync(join(JOBS, f), 'utf8').matchAll(/read_sql\("([a-z0-9-]+)"\)/g)].map((m) => m[1]!),
    );

    // Assess
    expect(names.sort()).toEqual(['compact-partition', 'rewrite-partition']);
    for (const name of names) expect(existsSync(join(ROOT, 'sql', 'glue', `${name}.sql`))).toBe(true);
  });

  it('check their arguments without Glue: partitions, pseudonyms', async () => {
    // Prepare
    const script = [
      'import sys',
      `sys.path.insert(0, ${JSON.stringify(JOBS)})`,
      'import json, rewrite_partition as r',
      'print(json.dumps(r.parse_partitions("2026-12-01/10, 2026-12-01/10,2026-12-02/23")))',
      'for bad in ("2026-12-01/24", "2026-12-01", ""):',
      '    try:',
      '        r.parse_partitions(bad); print("accepted " + bad)',
      '    except r.JobArgumentError:',
      '        print("refused")',
      'try:',
      '    r.parse_users(["u_abcdefgh12345678", "alice@example.com"]); print("accepted")',
      'except r.JobArgumentError as e:',
      '    print("refused: " + str(e))',
    ].join('\n');

    // Act
    const { stdout } = await python(['-c', script]);

    // Assess
    expect(stdout.trim().split('\n')).toEqual([
      '[["2026-12-01", "10"], ["2026-12-02", "23"]]',
      'refused',
      'refused',
      'refused',
      "refused: not a pseudonym: 'alice@example.com' (the lake holds keyed-HMAC pseudonyms, never raw ids)",
    ]);
  });
});

describe('the Glue jobs’ SQL on DuckDB', () => {
  let lakeDir: string;
  let db: LakeDatabase;

  beforeEach(async () => {
    lakeDir = await mkdtemp(join(tmpdir(), 'glue-sql-'));
    db = await LakeDatabase.open({ lakeDir });
  });
  afterEach(async () => {
    db.close();
    await rm(lakeDir, { recursive: true, force: true });
  });

  const byId = (rows: SqlRow[], id: string) => rows.map((r) => r[id] as string).sort();

  it('compaction keeps every distinct id of the partition once, with its columns', async () => {
    // Prepare: three small files; replays of i1 and i3 carry another received_at.
    const t = (m: number) => at(`2026-12-01T10:${String(m).padStart(2, '0')}:00Z`);
    const rows = [impression('i1', 'p1', t(1)), impression('i2', 'p2', t(2)), impression('i3', null, t(3))];
    const replay = (r: LakeRecord) => ({ ...r, received_at: at('2026-12-01T10:59:00Z') });
    await writeTable(lakeDir, 'ad_impressions', rows.slice(0, 2), 'seg-1.parquet');
    await writeTable(lakeDir, 'ad_impressions', [rows[2]!, replay(rows[0]!)], 'seg-2.parquet');
    await writeTable(lakeDir, 'ad_impressions', [replay(rows[0]!), replay(rows[2]!)], 'seg-3.parquet');
    const paths = partitionFiles(lakeDir, 'ad_impressions', '2026-12-01', '10');

    // Act: what the job does in Spark: the partition's rows, row_id = the table's id column.
    const out = await db.withConnection(async (c) => {
      await c.run(`CREATE TEMP VIEW partition_rows AS SELECT *, impression_id AS row_id FROM ${files(paths)}`);
      const reader = await c.runAndReadAll(loadSql('glue/compact-partition', 'duckdb'));
      return reader.getRowObjectsJS() as SqlRow[];
    });

    // Assess
    expect(byId(out, 'impression_id')).toEqual(['i1', 'i2', 'i3']);
    expect(out.every((r) => Number(r.row_copy) === 1)).toBe(true);
    expect(Object.keys(out[0]!)).toEqual([
      'impression_id',
      'prediction_id',
      'user_id',
      'ad_id',
      'timestamp',
      'device_type',
      'location',
      'ip',
      'features',
      'received_at',
      'row_id',
      'row_copy',
    ]);
    expect(out.find((r) => r.impression_id === 'i3')).toMatchObject({ prediction_id: null, user_id: 'u-1' });
  });

  it("the erasure rewrite removes exactly the erased users' rows and keeps rows without a user", async () => {
    // Prepare
    const t = (m: number) => at(`2026-12-01T10:${String(m).padStart(2, '0')}:00Z`);
    const rows: LakeRecord[] = [
      { ...click('c1', 'i1', t(1)), user_id: 'u_erased_000001' },
      { ...click('c2', 'i2', t(2)), user_id: 'u_kept_0000001' },
      { ...click('c3', 'i3', t(3)), user_id: null },
      { ...click('c4', 'i4', t(4)), user_id: 'u_erased_000001' },
      { ...click('c5', 'i5', t(5)), user_id: 'u_erased_000002' },
    ];
    await writeTable(lakeDir, 'clicks', rows.slice(0, 3), 'seg-1.parquet');
    await writeTable(lakeDir, 'clicks', rows.slice(3), 'seg-2.parquet');
    const paths = partitionFiles(lakeDir, 'clicks', '2026-12-01', '10');

    // Act
    const out = await db.withConnection(async (c) => {
      await c.run(`CREATE TEMP VIEW partition_rows AS SELECT * FROM ${files(paths)}`);
      await c.run(
        "CREATE TEMP TABLE erased_users AS SELECT * FROM (VALUES ('u_erased_000001'), ('u_erased_000002')) v(user_id)",
      );
      const reader = await c.runAndReadAll(loadSql('glue/rewrite-partition', 'duckdb'));
      return reader.getRowObjectsJS() as SqlRow[];
    });

    // Assess
    expect(byId(out, 'click_id')).toEqual(['c2', 'c3']);
    expect(Object.keys(out[0]!)).toEqual([
      'click_id',
      'impression_id',
      'user_id',
      'ip',
      'clicked',
      'timestamp',
      'received_at',
    ]);
  });

  it('the erasure rewrite keeps every row when the users are not in the partition', async () => {
    // Prepare
    await writeTable(lakeDir, 'clicks', [click('c1', 'i1', at('2026-12-01T10:00:00Z'))]);
    const paths = partitionFiles(lakeDir, 'clicks', '2026-12-01', '10');

    // Act
    const out = await db.withConnection(async (c) => {
      await c.run(`CREATE TEMP VIEW partition_rows AS SELECT * FROM ${files(paths)}`);
      await c.run("CREATE TEMP TABLE erased_users AS SELECT 'u_someone_else1' AS user_id");
      const reader = await c.runAndReadAll(loadSql('glue/rewrite-partition', 'duckdb'));
      return reader.getRowObjectsJS() as SqlRow[];
    });

    // Assess
    expect(byId(out, 'click_id')).toEqual(['c1']);
  });
});
