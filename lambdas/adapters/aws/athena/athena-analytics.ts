/**
 * The AWS Analytics port: the queries of sql/analytics/ run by Athena over the Glue tables of
 * the lake, with the parameters and row mapping the local DuckDB adapter uses
 * (shared/analytics-sql.ts), so both answer alike for the same lake.
 *
 * Ad performance runs the plain query on every request. The local adapter's hourly rollups
 * (local/duckdb/ad-performance-rollup.ts) are local-only: they fingerprint partition directories
 * on the file system. In AWS the later step is a rollup table built by CTAS / INSERT INTO from
 * the same query per closed hour, which this adapter would then read like the local one does.
 */
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
import type { SqlRow } from '../../shared/sql-values.js';
import { type AthenaQueryConfig, AthenaQueryRunner, type AthenaSender } from './athena-query-runner.js';

export type AthenaAnalyticsConfig = AthenaQueryConfig;

export class AthenaAnalytics implements Analytics {
  private readonly runner: AthenaQueryRunner;

  constructor(client: AthenaSender, config: AthenaAnalyticsConfig) {
    this.runner = new AthenaQueryRunner(client, config);
  }

  async adPerformance(q: AdPerformanceQuery): Promise<Limited<AdPerformanceCounts>> {
    return limited((await this.run(adPerformanceStatement(q))).map(adPerformanceCounts), q.limit);
  }

  async userSegments(q: UserSegmentsQuery): Promise<Limited<UserSegmentCounts>> {
    return limited((await this.run(userSegmentsStatement(q))).map(userSegmentCounts), q.limit);
  }

  async models(q: ModelsQuery): Promise<Limited<ModelBinCounts>> {
    return modelBins(await this.run(modelsStatement(q)), q.limit);
  }

  async fraud(q: FraudQuery): Promise<Limited<FraudCounts>> {
    return limited((await this.run(fraudStatement(q))).map(fraudCounts), q.limit);
  }

  /** Athena prunes partitions from the dt/hour bounds in the parameters: `inputs` is for DuckDB's views. */
  private run({ name, params }: AnalyticsStatement): Promise<SqlRow[]> {
    return this.runner.run(name, params);
  }
}
