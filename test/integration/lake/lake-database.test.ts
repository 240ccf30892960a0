import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LakeDatabase } from '../../../lambdas/adapters/local/duckdb/lake-database.js';
import { writeLakeParquetFile } from '../../../lambdas/adapters/local/lake/parquet-writer.js';
import { partitionDir } from '../../../lambdas/adapters/local/lake/partitions.js';
import { impressionRow } from '../../support/lake-rows.js';

const impression = (id: string, at: string, extra: Record<string, unknown> = {}) =>
  impressionRow(id, at, { features: JSON.stringify({ site_id: 'site-9' }), ...extra });

async function writeImpressions(lakeDir: string, file: string, rows: ReturnType<typeof impression>[]) {
  const dir = partitionDir(lakeDir, 'ad_impressions', rows[0]!.timestamp);
  await mkdir(dir, { recursive: true });
  await writeLakeParquetFile(join(dir, file), 'ad_impressions', rows);
}

describe('LakeDatabase', () => {
  let root: string;
  let db: LakeDatabase;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'lake-db-'));
    db = await LakeDatabase.open({ lakeDir: join(root, 'lake') });
  });
  afterEach(async () => {
    db.close();
    await rm(root, { recursive: true, force: true });
  });

  it('answers queries over an empty lake with typed, empty tables', async () => {
    // Act
    const rows = await db.query('SELECT count(*) AS n, max(timestamp) AS last FROM ad_impressions');
    const columns = await db.query("SELECT column_name FROM (DESCRIBE clicks) WHERE column_name IN ('clicked', 'dt')");

    // Assess
    expect(rows).toEqual([{ n: 0, last: null }]);
    expect(columns.map((c) => c.column_name).sort()).toEqual(['clicked', 'dt']);
  });

  it('sees files written after it opened, with dt and hour as text partition columns', async () => {
    // Prepare
    await db.query('SELECT count(*) FROM ad_impressions');
    await writeImpressions(join(root, 'lake'), 'a.parquet', [
      impression('i1', '2026-12-01T10:15:00Z'),
      impression('i2', '2026-12-01T10:45:00Z'),
    ]);

    // Act
    const rows = await db.query(
      'SELECT dt, hour, count(*) AS n, min(timestamp) AS first FROM ad_impressions WHERE dt = ? GROUP BY dt, hour',
      ['2026-12-01'],
    );

    // Assess
    expect(rows).toEqual([{ dt: '2026-12-01', hour: '10', n: 2, first: '2026-12-01T10:15:00.000Z' }]);
  });

  it('binds parameters instead of splicing them into the text', async () => {
    // Prepare
    await writeImpressions(join(root, 'lake'), 'a.parquet', [impression('i1', '2026-12-01T10:15:00Z')]);

    // Act
    const rows = await db.query('SELECT count(*) AS n FROM ad_impressions WHERE ad_id = ?', ["ad-1' OR '1'='1"]);

    // Assess
    expect(rows).toEqual([{ n: 0 }]);
  });

  it('gives DuckDB the Trino spellings the shared SQL uses', async () => {
    // Prepare
    await writeImpressions(join(root, 'lake'), 'a.parquet', [
      impression('i1', '2026-12-01T10:15:00Z'),
      impression('i2', '2026-12-01T10:16:00Z'),
    ]);

    // Act
    const rows = await db.query(
      "SELECT json_extract_scalar(features, '$.site_id') AS site, approx_count_distinct(impression_id) AS n FROM ad_impressions GROUP BY 1",
    );

    // Assess
    expect(rows).toEqual([{ site: 'site-9', n: 2 }]);
  });

  it('opens DuckDB at the first query when created lazily, and closes cleanly unused', async () => {
    // Prepare
    await writeImpressions(join(root, 'lake'), 'a.parquet', [impression('i1', '2026-12-01T10:15:00Z')]);
    const lazy = LakeDatabase.lazy({ lakeDir: join(root, 'lake') });
    const unused = LakeDatabase.lazy({ lakeDir: join(root, 'lake') });

    // Act
    const rows = await lazy.query('SELECT count(*) AS n FROM ad_impressions');
    lazy.close();
    unused.close();

    // Assess
    expect(rows).toEqual([{ n: 1 }]);
    await expect(lazy.query('SELECT 1')).rejects.toThrow('closed');
  });
});
