import { createHash } from 'node:crypto';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { DUCKDB_MACROS, toDialect } from '../../../lambdas/adapters/shared/sql-files.js';

describe('SQL dialect shim', () => {
  it("rewrites Trino's approx_distinct for DuckDB and leaves Athena's text alone", () => {
    // Prepare
    const sql = 'SELECT approx_distinct(user_id), APPROX_DISTINCT (ip) FROM ad_impressions';

    // Act
    const duckdb = toDialect(sql, 'duckdb');
    const athena = toDialect(sql, 'athena');

    // Assess
    expect(duckdb).toBe('SELECT approx_count_distinct(user_id), approx_count_distinct(ip) FROM ad_impressions');
    expect(athena).toBe(sql);
  });

  it('does not touch identifiers that merely contain a function name', () => {
    // Act
    const out = toDialect('SELECT my_approx_distinct(x) FROM t', 'duckdb');

    // Assess
    expect(out).toBe('SELECT my_approx_distinct(x) FROM t');
  });

  it("rewrites Trino's upper-case hex md5 of a string's UTF-8 bytes for DuckDB", () => {
    // Prepare
    const sql = 'SELECT from_base(substr(to_hex(md5(to_utf8(prediction_id))), 1, 8), 16) FROM t';

    // Act
    const duckdb = toDialect(sql, 'duckdb');

    // Assess
    expect(duckdb).toBe('SELECT from_base(substr(upper(md5((prediction_id))), 1, 8), 16) FROM t');
    expect(toDialect(sql, 'athena')).toBe(sql);
  });

  it('gives on DuckDB the value Trino gives for the down-sampling hash (first 32 bits of md5)', async () => {
    // Prepare: md5('päß-1') starts with 8 hex digits; Trino's from_base reads them as a number.
    const expected = Number.parseInt(createHash('md5').update('päß-1', 'utf8').digest('hex').slice(0, 8), 16);
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();

    try {
      // Act
      for (const macro of DUCKDB_MACROS) await connection.run(macro);
      const reader = await connection.runAndReadAll(
        toDialect("SELECT from_base(substr(to_hex(md5(to_utf8('päß-1'))), 1, 8), 16) AS draw", 'duckdb'),
      );

      // Assess
      expect(Number(reader.getRowObjectsJS()[0]!.draw)).toBe(expected);
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  });

  it("answers Trino's approx_percentile on DuckDB per group, near the exact percentile, NULL for no values", async () => {
    // Prepare: group a holds 1..1000 (exact p99 990, median 500), group b only NULLs.
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();

    try {
      // Act
      for (const macro of DUCKDB_MACROS) await connection.run(macro);
      const reader = await connection.runAndReadAll(
        toDialect(
          `SELECT g, approx_percentile(x, 0.5) AS p50, approx_percentile(x, 0.99) AS p99
           FROM (SELECT 'a' AS g, CAST(i AS DOUBLE) AS x FROM range(1, 1001) t(i)
                 UNION ALL SELECT 'b', CAST(NULL AS DOUBLE))
           GROUP BY g ORDER BY g`,
          'duckdb',
        ),
      );

      // Assess
      const [a, b] = reader.getRowObjectsJS() as { p50: number | null; p99: number | null }[];
      expect(a!.p50).toBeGreaterThanOrEqual(495);
      expect(a!.p50).toBeLessThanOrEqual(505);
      expect(a!.p99).toBeGreaterThanOrEqual(985);
      expect(a!.p99).toBeLessThanOrEqual(995);
      expect(b).toEqual({ g: 'b', p50: null, p99: null });
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  });
});
