import { describe, expect, it } from 'vitest';
import {
  adPerformanceStatement,
  fraudStatement,
  modelsStatement,
  userSegmentsStatement,
} from '../../../lambdas/adapters/shared/analytics-sql.js';
import { loadSql, toDialect } from '../../../lambdas/adapters/shared/sql-files.js';

const QUERIES = [
  'analytics/ad-performance',
  'analytics/user-segments',
  'analytics/models',
  'analytics/fraud',
  'training/training-set',
];

/** The text outside comments and string literals: what the engine parses as syntax. */
const syntax = (sql: string): string => sql.replace(/--[^\n]*/g, ' ').replace(/'(?:[^']|'')*'/g, "''");

const range = { from: new Date('2026-12-01T10:00:00Z'), to: new Date('2026-12-02T10:00:00Z') };
const window = { attributionWindowSeconds: 3600 };

describe('the SQL Athena runs', () => {
  it.each(QUERIES)('%s differs from the DuckDB text only by the shim’s rewrites', (name) => {
    // Act
    const athena = loadSql(name, 'athena');

    // Assess
    expect(toDialect(athena, 'duckdb')).toBe(loadSql(name, 'duckdb'));
  });

  it.each(QUERIES)('%s has no DuckDB-only syntax', (name) => {
    // Prepare
    const sql = syntax(loadSql(name, 'athena'));

    // Assess
    expect(sql).not.toMatch(/::/); // DuckDB cast shorthand
    expect(sql).not.toMatch(/\bQUALIFY\b/i);
    expect(sql).not.toMatch(/\bread_(parquet|csv|json)\w*\s*\(/i);
    expect(sql).not.toMatch(
      /\b(approx_count_distinct|json_extract_string|epoch_ms|strftime|list_\w+|struct_pack)\s*\(/i,
    );
    expect(sql).not.toMatch(/\bILIKE\b|\bEXCLUDE\s*\(|\bGROUP BY ALL\b|\bSELECT\s+\*\s+REPLACE\b/i);
    expect(sql).not.toMatch(/INTERVAL\s+\d/i); // Trino quotes the amount: INTERVAL '1' SECOND
    expect(sql).not.toMatch(/"/); // no quoted identifiers: case rules differ between the engines
  });

  it('keeps the Trino spellings the shim rewrites for DuckDB', () => {
    // Assess
    expect(loadSql('analytics/fraud', 'athena')).toContain('json_extract_scalar(');
    expect(loadSql('training/training-set', 'athena')).toMatch(/to_hex\s*\(\s*md5\s*\(\s*to_utf8\s*\(/i);
  });

  it.each([
    [
      'analytics/ad-performance',
      adPerformanceStatement({ ...range, ...window, adId: 'ad-1', granularity: 'day', limit: 10 }).params,
    ],
    [
      'analytics/user-segments',
      userSegmentsStatement({ ...range, ...window, dimension: 'activity', limit: 10 }).params,
    ],
    ['analytics/models', modelsStatement({ ...range, ...window, limit: 10 }).params],
    ['analytics/fraud', fraudStatement({ ...range, ...window, granularity: 'hour', limit: 10 }).params],
  ])('%s has one placeholder per parameter sent (Athena binds them by position)', (name, params) => {
    // Act
    const placeholders = syntax(loadSql(name, 'athena')).split('?').length - 1;

    // Assess
    expect(placeholders).toBe(params.length);
  });
});
