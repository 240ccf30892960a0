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
import type { AnalyticsStatement } from '../../shared/analytics-sql.js';
import type { SqlRow } from '../../shared/sql-values.js';
import { StatementAnalytics } from '../../shared/statement-analytics.js';
import { type AthenaQueryConfig, AthenaQueryRunner, type AthenaSender } from './athena-query-runner.js';

export type AthenaAnalyticsConfig = AthenaQueryConfig;

export class AthenaAnalytics extends StatementAnalytics {
  private readonly runner: AthenaQueryRunner;

  constructor(client: AthenaSender, config: AthenaAnalyticsConfig) {
    super();
    this.runner = new AthenaQueryRunner(client, config);
  }

  /** Athena prunes partitions from the dt/hour bounds in the parameters: `inputs` is for DuckDB's views. */
  protected run({ name, params }: AnalyticsStatement): Promise<SqlRow[]> {
    return this.runner.run(name, params);
  }
}
