/**
 * The analytics port over the local lake: the shared queries of sql/analytics/ run by DuckDB
 * (the same texts, parameters and row mapping Athena uses in AWS: shared/analytics-sql.ts), with
 * the ad-performance query served from exact hourly rollups where the lake has not changed since
 * they were built (ad-performance-rollup.ts).
 */
import type { DuckDBValue } from '@duckdb/node-api';
import type { AdPerformanceCounts, AdPerformanceQuery, Limited } from '../../../core/schemas/analytics.js';
import type { AnalyticsStatement } from '../../shared/analytics-sql.js';
import { loadSql } from '../../shared/sql-files.js';
import type { SqlRow } from '../../shared/sql-values.js';
import { StatementAnalytics } from '../../shared/statement-analytics.js';
import { AdPerformanceRollup, type AdPerformanceRollupOptions } from './ad-performance-rollup.js';
import { type LakeDatabase, plainRows } from './lake-database.js';

export interface DuckDbAnalyticsOptions {
  /**
   * Serve ad performance from hourly rollups (default true). Off, every request runs the plain
   * query over the raw tables: the reference the rollups are tested and benchmarked against.
   */
  readonly rollup?: boolean;
  readonly rollupOptions?: AdPerformanceRollupOptions;
}

export class DuckDbAnalytics extends StatementAnalytics {
  private readonly rollup: AdPerformanceRollup | undefined;

  constructor(
    private readonly db: LakeDatabase,
    options: DuckDbAnalyticsOptions = {},
  ) {
    super();
    this.rollup = options.rollup === false ? undefined : new AdPerformanceRollup(db, options.rollupOptions);
  }

  override async adPerformance(q: AdPerformanceQuery): Promise<Limited<AdPerformanceCounts>> {
    if (this.rollup?.serves(q)) return this.rollup.query(q);
    return super.adPerformance(q);
  }

  /** Runs a statement with the lake's views narrowed to the partitions it reads. */
  protected run({ name, params, inputs }: AnalyticsStatement): Promise<SqlRow[]> {
    return this.db.withConnection(async (c) => {
      await this.db.narrowViews(c, inputs);
      const reader = await c.runAndReadAll(loadSql(name, 'duckdb'), params as DuckDBValue[]);
      return plainRows(reader.getRowObjectsJS());
    });
  }
}
