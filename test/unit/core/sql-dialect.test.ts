import { describe, expect, it } from 'vitest';
import { toDialect } from '../../../lambdas/adapters/shared/sql-files.js';

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
});
