/**
 * The analytics port over the local lake: the shared queries of sql/analytics/ run by DuckDB
 * (the same texts, parameters and row mapping Athena uses in AWS: shared/analytics-sql.ts), with
 * the ad-performance query served from exact hourly rollups where the lake has not changed since
 * they were built (ad-performance-rollup.ts).
 */
import type { DuckDBValue } from '@duckdb/node-api';
import type { Analytics } from '../../../core/ports.js';
import type {
  AdPerformanceCounts,
  AdPerformanceQuery,
  FraudCounts,
  FraudQuery,
  Limited,
  ModelBinCounts,
  ModelsQuery,
  UserSegmentCounts,
  UserSegmentsQuery,
} from '../../../core/schemas/analytics.js';
import {
  type AnalyticsStatement,
  adPerformanceCounts,
  adPerformanceStatement,
  fraudCounts,
  fraudStatement,
  limited,
  modelBins,
  modelsStatement,
  userSegmentCounts,
  userSegmentsStatement,
} from '../../shared/analytics-sql.js';
import { loadSql } from '../../shared/sql-files.js';
import type { SqlRow } from '../../shared/sql-values.js';
import { AdPerformanceRollup, type AdPerformanceRollupOptions } from './ad-performance-rollup.js';
import { type LakeDatabase, plain } from './lake-database.js';

export interface DuckDbAnalyticsOptions {
  /**
   * Serve ad performance from hourly rollups (default true). Off, every request runs the plain
   * query over the raw tables: the reference the rollups are tested and benchmarked against.
   */
  readonly rollup?: boolean;
  readonly rollupOptions?: AdPerformanceRollupOptions;
}

/** Runs a statement with the lake's views narrowed to the partitions it reads. */
function queryNarrowed(db: LakeDatabase, { name, params, inputs }: AnalyticsStatement): Promise<SqlRow[]> {
  return db.withConnection(async (c) => {
    await db.narrowViews(c, inputs);
    const reader = await c.runAndReadAll(loadSql(name, 'duckdb'), params as DuckDBValue[]);
    return reader.getRowObjectsJS().map((row) => {
      const out: SqlRow = {};
      for (const [k, v] of Object.entries(row)) out[k] = plain(v);
      return out;
    });
  });
}

export class DuckDbAnalytics implements Analytics {
  private readonly rollup: AdPerformanceRollup | undefined;

  constructor(
    private readonly db: LakeDatabase,
    options: DuckDbAnalyticsOptions = {},
  ) {
    this.rollup = options.rollup === false ? undefined : new AdPerformanceRollup(db, options.rollupOptions);
  }

  async adPerformance(q: AdPerformanceQuery): Promise<Limited<AdPerformanceCounts>> {
    if (this.rollup?.serves(q)) return this.rollup.query(q);
    const rows = await queryNarrowed(this.db, adPerformanceStatement(q));
    return limited(rows.map(adPerformanceCounts), q.limit);
  }

  async userSegments(q: UserSegmentsQuery): Promise<Limited<UserSegmentCounts>> {
    const rows = await queryNarrowed(this.db, userSegmentsStatement(q));
    return limited(rows.map(userSegmentCounts), q.limit);
  }

  async models(q: ModelsQuery): Promise<Limited<ModelBinCounts>> {
    return modelBins(await queryNarrowed(this.db, modelsStatement(q)), q.limit);
  }

  async fraud(q: FraudQuery): Promise<Limited<FraudCounts>> {
    const rows = await queryNarrowed(this.db, fraudStatement(q));
    return limited(rows.map(fraudCounts), q.limit);
  }
}
