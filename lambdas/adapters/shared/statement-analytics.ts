/**
 * The Analytics port over any engine that runs the shared statements of analytics-sql.ts: the
 * statements, the row mapping and the limits are the same for DuckDB and Athena, so an adapter
 * says only how it runs a statement.
 */
import type { Analytics } from '../../core/ports.js';
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
} from '../../core/schemas/analytics.js';
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
} from './analytics-sql.js';
import type { SqlRow } from './sql-values.js';

export abstract class StatementAnalytics implements Analytics {
  /** Runs one statement of analytics-sql.ts and returns its rows as plain values. */
  protected abstract run(statement: AnalyticsStatement): Promise<SqlRow[]>;

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
}
