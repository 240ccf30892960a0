import { describe, expect, it } from 'vitest';
import { AthenaAnalytics } from '../../../lambdas/adapters/aws/athena/athena-analytics.js';
import { DuckDbAnalytics } from '../../../lambdas/adapters/local/duckdb/duckdb-analytics.js';
import { LakeDatabase } from '../../../lambdas/adapters/local/duckdb/lake-database.js';
import { bindParameters, duckDbAthena, javaDouble } from '../../support/duckdb-athena.js';
import { fakeTiming } from '../../support/fake-timing.js';
import { analyticsContract } from './analytics.contract.js';

const WORKGROUP = 'adclick-analytics';
const DATABASE = 'adclick_lake';

/** A clock that moves only when the adapter sleeps: polling costs no wall-clock time. */
// The hourly rollups are the local adapter's serving path: the hours of the range closed and settled.
analyticsContract('DuckDbAnalytics (hourly rollups)', (db) => ({
  analytics: new DuckDbAnalytics(db, {
    rollupOptions: { now: () => new Date('2026-11-03T00:00:00Z'), settleMs: 0 },
  }),
}));

analyticsContract('AthenaAnalytics (DuckDB behind the Athena API, 3-row pages)', (db) => {
  const athena = duckDbAthena(db, { workgroup: WORKGROUP, database: DATABASE });
  return {
    analytics: new AthenaAnalytics(athena.client, {
      workgroup: WORKGROUP,
      database: DATABASE,
      pageSize: 3,
      timing: fakeTiming(),
    }),
    close: () => athena.restore(),
  };
});

describe('the DuckDB-backed fake Athena', () => {
  it('binds each parameter to the next ? outside strings, identifiers and comments', () => {
    // Act
    const sql = bindParameters(`SELECT '?', "a?" -- ?\n, ? /* ? */ + ?`, ["'x'", '3']);

    // Assess
    expect(sql).toBe(`SELECT '?', "a?" -- ?\n, 'x' /* ? */ + 3`);
  });

  it('refuses a parameter count that does not match the query', () => {
    // Act
    const outcome = () => bindParameters('SELECT ?, ?', ['1']);

    // Assess
    expect(outcome).toThrow(/2 parameters; 1 were given/);
  });

  it("writes doubles as Java's Double.toString does", () => {
    // Act
    const written = [0.15, 1, 1e7, 0.0001, -2.5e-8, 0].map(javaDouble);

    // Assess
    expect(written).toEqual(['0.15', '1.0', '1.0E7', '1.0E-4', '-2.5E-8', '0.0']);
  });

  it('fails a query naming another database as Athena does', async () => {
    // Prepare
    const db = await LakeDatabase.open({ lakeDir: '/nonexistent-lake' });
    const athena = duckDbAthena(db, { workgroup: WORKGROUP, database: DATABASE });
    const analytics = new AthenaAnalytics(athena.client, {
      workgroup: WORKGROUP,
      database: 'other_db',
      timing: fakeTiming(),
    });

    // Act
    const outcome = analytics.models({
      from: new Date('2026-11-02T10:00:00Z'),
      to: new Date('2026-11-02T11:00:00Z'),
      limit: 1,
      attributionWindowSeconds: 3600,
    });

    // Assess
    await expect(outcome).rejects.toMatchObject({ name: 'AthenaQueryFailedError' });
    await expect(outcome).rejects.toThrow(/SCHEMA_NOT_FOUND/);
    athena.restore();
    db.close();
  });
});
