import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateLake, type LakeSummary } from '../../../bench/lake/generate-lake.js';
import { LakeDatabase } from '../../../lambdas/adapters/local/duckdb/lake-database.js';
import { LAKE_TABLES } from '../../../lambdas/core/lake/tables.js';

const DUCKDB_TYPE = {
  string: 'VARCHAR',
  int64: 'BIGINT',
  double: 'DOUBLE',
  boolean: 'BOOLEAN',
  timestamp: 'TIMESTAMP',
};

describe('the benchmark lake generator', () => {
  let root: string;
  let db: LakeDatabase;
  let summary: LakeSummary;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'gen-lake-'));
    summary = await generateLake({ lakeDir: join(root, 'lake'), impressions: 20_000, days: 2, threads: 1 });
    db = await LakeDatabase.open({ lakeDir: join(root, 'lake') });
  });
  afterAll(async () => {
    db.close();
    await rm(root, { recursive: true, force: true });
  });

  it.each(['ad_impressions', 'clicks', 'model_predictions', 'suspicious_events'] as const)(
    'writes %s with the columns and types of the lake table definition',
    async (table) => {
      // Act
      const described = await db.query(`SELECT column_name, column_type FROM (DESCRIBE ${table})`);

      // Assess
      const expected = LAKE_TABLES[table].columns.map((c) => ({
        column_name: c.name,
        column_type: DUCKDB_TYPE[c.type],
      }));
      expect(described.filter((d) => d.column_name !== 'dt' && d.column_name !== 'hour')).toEqual(
        expect.arrayContaining(expected),
      );
      expect(described).toHaveLength(expected.length + 2);
    },
  );

  it('writes the distinct counts it reports, with replays on top', async () => {
    // Act
    const [impressions] = await db.query(
      'SELECT count(*) AS n, count(DISTINCT impression_id) AS d, min(timestamp) AS first FROM ad_impressions',
    );
    const [clicks] = await db.query('SELECT count(*) AS n, count(DISTINCT click_id) AS d FROM clicks');

    // Assess
    expect(impressions!.d).toBe(summary.impressions);
    expect(impressions!.n as number).toBeGreaterThan(summary.impressions);
    expect(impressions!.first).toBe(summary.from.toISOString());
    expect(clicks!.d).toBe(summary.clicks);
    expect(summary.clicks / summary.impressions).toBeGreaterThan(0.005);
    expect(summary.clicks / summary.impressions).toBeLessThan(0.03);
  });

  it('is a function of its seed', async () => {
    // Prepare
    const other = join(root, 'again');

    // Act
    const again = await generateLake({ lakeDir: other, impressions: 20_000, days: 2, threads: 2 });

    // Assess
    expect(again).toEqual(summary);
  });
});
