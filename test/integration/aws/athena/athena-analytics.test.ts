import {
  AthenaClient,
  type ColumnInfo,
  GetQueryExecutionCommand,
  type GetQueryExecutionOutput,
  GetQueryResultsCommand,
  type GetQueryResultsOutput,
  type QueryExecutionStatus,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  AthenaAnalytics,
  type AthenaAnalyticsConfig,
} from '../../../../lambdas/adapters/aws/athena/athena-analytics.js';
import {
  AthenaQueryFailedError,
  AthenaQueryTimeoutError,
  AthenaUnavailableError,
} from '../../../../lambdas/adapters/aws/athena/errors.js';
import { loadSql } from '../../../../lambdas/adapters/shared/sql-files.js';
import { toProblem } from '../../../../lambdas/core/api/problem.js';
import type { AdPerformanceQuery } from '../../../../lambdas/core/schemas/analytics.js';
import { fakeTiming } from '../../../support/fake-timing.js';

const ID = '7f1c2c1e-3b7a-4a5e-9c39-0d3f1b1e8a11';
const range = { from: new Date('2026-12-01T10:00:00Z'), to: new Date('2026-12-01T12:00:00Z') };
const adQuery: AdPerformanceQuery = {
  ...range,
  adId: 'ad-1',
  granularity: 'hour',
  limit: 10,
  attributionWindowSeconds: 3600,
};

/** A clock that only moves when the adapter sleeps, so time budgets are spent without waiting. */
// Column metadata as Athena (engine v3) reports it.
const col = (Name: string, Type: string, Precision: number): ColumnInfo => ({
  CatalogName: 'hive',
  SchemaName: '',
  TableName: '',
  Name,
  Label: Name,
  Type,
  Precision,
  Scale: 0,
  Nullable: 'UNKNOWN',
  CaseSensitive: Type === 'varchar',
});
const AD_COLUMNS: ColumnInfo[] = [
  col('ad_id', 'varchar', 2147483647),
  col('period_start', 'timestamp', 3),
  col('impressions', 'bigint', 19),
  col('clicks', 'bigint', 19),
  col('predicted_impressions', 'bigint', 19),
  col('predicted_clicks', 'bigint', 19),
  col('sum_probability', 'double', 17),
  col('ctr', 'double', 17),
  col('mean_predicted_ctr', 'double', 17),
  col('calibration', 'double', 17),
];

/** One result row: text cells, `undefined` for a NULL (Athena sends an empty Datum). */
const row = (...cells: (string | undefined)[]) => ({
  Data: cells.map((c) => (c === undefined ? {} : { VarCharValue: c })),
});
const header = (columns: ColumnInfo[]) => row(...columns.map((c) => c.Name!));

function page(columns: ColumnInfo[], rows: ReturnType<typeof row>[], nextToken?: string): GetQueryResultsOutput {
  return {
    UpdateCount: 0,
    ResultSet: { Rows: rows, ResultSetMetadata: { ColumnInfo: columns } },
    ...(nextToken === undefined ? {} : { NextToken: nextToken }),
  };
}

function execution(status: QueryExecutionStatus): GetQueryExecutionOutput {
  return {
    QueryExecution: {
      QueryExecutionId: ID,
      StatementType: 'DML',
      WorkGroup: 'adclick-analytics',
      Status: { SubmissionDateTime: new Date('2026-12-02T00:00:00Z'), ...status },
    },
  };
}

describe('AthenaAnalytics (Athena mocked with its wire shapes)', () => {
  const athena = mockClient(AthenaClient);
  const client = new AthenaClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
  });
  let timing: ReturnType<typeof fakeTiming>;

  const analytics = (config: Partial<AthenaAnalyticsConfig> = {}) =>
    new AthenaAnalytics(client, { workgroup: 'adclick-analytics', database: 'adclick_lake', timing, ...config });

  /** A query that succeeds at once and returns `pages`. */
  function succeeds(...pages: GetQueryResultsOutput[]): void {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: ID });
    athena.on(GetQueryExecutionCommand).resolves(execution({ State: 'SUCCEEDED' }));
    const results = athena.on(GetQueryResultsCommand);
    for (const p of pages) results.resolvesOnce(p);
  }

  beforeEach(() => {
    athena.reset();
    timing = fakeTiming();
  });

  describe('sends each query with its text, workgroup, database and parameters', () => {
    it('ad performance: the 25 range parameters, then granularity, the ad twice and limit + 1', async () => {
      // Prepare
      succeeds(page(AD_COLUMNS, [header(AD_COLUMNS)]));

      // Act
      await analytics().adPerformance(adQuery);

      // Assess
      const input = athena.commandCalls(StartQueryExecutionCommand)[0]!.args[0].input;
      expect(input.QueryString).toBe(loadSql('analytics/ad-performance', 'athena'));
      expect(input.WorkGroup).toBe('adclick-analytics');
      expect(input.QueryExecutionContext).toEqual({ Database: 'adclick_lake' });
      const params = input.ExecutionParameters!;
      expect(params).toHaveLength(29);
      expect(params.slice(0, 4)).toEqual(["'2026-12-01'", "'2026-12-01'", "'2026-12-01T10'", "'2026-12-01T11'"]);
      expect(params.slice(8, 10)).toEqual(["'2026-12-01 10:00:00.000'", "'2026-12-01 12:00:00.000'"]);
      expect(params[18]).toBe('3600');
      expect(params.slice(25)).toEqual(["'hour'", "'ad-1'", "'ad-1'", '11']);
    });

    it('ad performance for every ad binds the ad as NULL', async () => {
      // Prepare
      succeeds(page(AD_COLUMNS, [header(AD_COLUMNS)]));

      // Act
      await analytics().adPerformance({ ...adQuery, adId: null });

      // Assess
      const params = athena.commandCalls(StartQueryExecutionCommand)[0]!.args[0].input.ExecutionParameters!;
      expect(params.slice(26, 28)).toEqual(['NULL', 'NULL']);
    });

    it('user segments: the dimension, the activity thresholds and limit + 1', async () => {
      // Prepare
      const columns = [col('segment', 'varchar', 2147483647), col('users', 'bigint', 19)];
      succeeds(page(columns, [header(columns)]));

      // Act
      await analytics().userSegments({ ...range, dimension: 'activity', limit: 5, attributionWindowSeconds: 3600 });

      // Assess
      const input = athena.commandCalls(StartQueryExecutionCommand)[0]!.args[0].input;
      expect(input.QueryString).toBe(loadSql('analytics/user-segments', 'athena'));
      expect(input.ExecutionParameters!.slice(25)).toEqual(["'activity'", '10', '100', '6']);
    });

    it('models: the 25 range parameters, then the range again for the predictions made in it', async () => {
      // Prepare
      const columns = [col('model_version', 'varchar', 2147483647)];
      succeeds(page(columns, [header(columns)]));

      // Act
      await analytics().models({ ...range, limit: 5, attributionWindowSeconds: 3600 });

      // Assess
      const input = athena.commandCalls(StartQueryExecutionCommand)[0]!.args[0].input;
      expect(input.QueryString).toBe(loadSql('analytics/models', 'athena'));
      expect(input.ExecutionParameters).toHaveLength(27);
      expect(input.ExecutionParameters!.slice(25)).toEqual(["'2026-12-01 10:00:00.000'", "'2026-12-01 12:00:00.000'"]);
    });

    it('fraud: its own partition bounds, the range, the site window, granularity and limit + 1', async () => {
      // Prepare
      const columns = [col('rule', 'varchar', 2147483647)];
      succeeds(page(columns, [header(columns)]));

      // Act
      await analytics({ catalog: 'AwsDataCatalog' }).fraud({
        ...range,
        granularity: 'day',
        limit: 100,
        attributionWindowSeconds: 3600,
      });

      // Assess
      const input = athena.commandCalls(StartQueryExecutionCommand)[0]!.args[0].input;
      expect(input.QueryString).toBe(loadSql('analytics/fraud', 'athena'));
      expect(input.QueryExecutionContext).toEqual({ Database: 'adclick_lake', Catalog: 'AwsDataCatalog' });
      expect(input.ExecutionParameters).toEqual([
        "'2026-12-01'",
        "'2026-12-01'",
        "'2026-12-01T10'",
        "'2026-12-01T11'",
        "'2026-12-01 10:00:00.000'",
        "'2026-12-01 12:00:00.000'",
        "'2026-12-01'",
        "'2026-12-01'",
        "'2026-12-01T10'",
        "'2026-12-01T11'",
        "'2026-12-01'",
        "'2026-12-01'",
        "'2026-12-01T09'",
        "'2026-12-01T12'",
        "'day'",
        '101',
      ]);
    });
  });

  it('polls until the query succeeds, waiting longer each time up to the cap', async () => {
    // Prepare
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: ID });
    athena
      .on(GetQueryExecutionCommand)
      .resolvesOnce(execution({ State: 'QUEUED' }))
      .resolvesOnce(execution({ State: 'RUNNING' }))
      .resolvesOnce(execution({ State: 'RUNNING' }))
      .resolvesOnce(execution({ State: 'RUNNING' }))
      .resolvesOnce(execution({ State: 'RUNNING' }))
      .resolves(execution({ State: 'SUCCEEDED' }));
    athena.on(GetQueryResultsCommand).resolves(page(AD_COLUMNS, [header(AD_COLUMNS)]));

    // Act
    const result = await analytics().adPerformance(adQuery);

    // Assess
    expect(result).toEqual({ rows: [], truncated: false });
    expect(athena.commandCalls(GetQueryExecutionCommand)).toHaveLength(6);
    expect(athena.commandCalls(GetQueryExecutionCommand)[0]!.args[0].input).toEqual({ QueryExecutionId: ID });
    // Full jitter below min(1 s, 100 ms · 2^attempt); random() = 0.999 shows each ceiling.
    expect(timing.slept).toEqual([99, 199, 399, 799, 999, 999]);
  });

  it('reads every page, skipping only the first page’s header, with values typed as DuckDB gives them', async () => {
    // Prepare
    succeeds(
      page(
        AD_COLUMNS,
        [
          header(AD_COLUMNS),
          row(
            'ad-1',
            '2026-12-01 10:00:00.000',
            '1200',
            '30',
            '1100',
            '28',
            '27.5',
            '0.025',
            '0.025',
            '0.9821428571428571',
          ),
        ],
        'token-2',
      ),
      page(AD_COLUMNS, [
        row('ad-1', '2026-12-01 11:00:00.000', '900', '0', '0', '0', '0.0', '0.0', undefined, undefined),
      ]),
    );

    // Act
    const result = await analytics().adPerformance(adQuery);

    // Assess
    const pages = athena.commandCalls(GetQueryResultsCommand).map((c) => c.args[0].input);
    expect(pages).toEqual([
      { QueryExecutionId: ID, MaxResults: 1000, NextToken: undefined },
      { QueryExecutionId: ID, MaxResults: 1000, NextToken: 'token-2' },
    ]);
    expect(result).toEqual({
      rows: [
        {
          ad_id: 'ad-1',
          period_start: '2026-12-01T10:00:00.000Z',
          impressions: 1200,
          clicks: 30,
          predicted_impressions: 1100,
          predicted_clicks: 28,
          sum_probability: 27.5,
        },
        {
          ad_id: 'ad-1',
          period_start: '2026-12-01T11:00:00.000Z',
          impressions: 900,
          clicks: 0,
          predicted_impressions: 0,
          predicted_clicks: 0,
          sum_probability: 0,
        },
      ],
      truncated: false,
    });
  });

  it('maps model rows with a NULL AUC and NULL latency, and counts the limit in (model_version, variant) pairs', async () => {
    // Prepare
    const columns = [
      col('model_version', 'varchar', 2147483647),
      col('variant', 'varchar', 2147483647),
      col('impressions', 'bigint', 19),
      col('clicks', 'bigint', 19),
      col('sum_probability', 'double', 17),
      col('log_loss', 'double', 17),
      col('auc', 'double', 17),
      col('calibration', 'double', 17),
      col('bin', 'integer', 10),
      col('bin_impressions', 'bigint', 19),
      col('bin_clicks', 'bigint', 19),
      col('bin_sum_probability', 'double', 17),
      col('explored_impressions', 'bigint', 19),
      col('explored_clicks', 'bigint', 19),
      col('predictions', 'bigint', 19),
      col('fallback_predictions', 'bigint', 19),
      col('timed_predictions', 'bigint', 19),
      col('latency_p50_ms', 'double', 17),
      col('latency_p99_ms', 'double', 17),
      col('explored_predictions', 'bigint', 19),
      col('sum_exploration_bonus', 'double', 17),
    ];
    const serving = ['2', '0', '40', '3', '0', undefined, undefined, '4', '2.5'];
    succeeds(
      page(columns, [
        header(columns),
        row('v1', 'control', '10', '0', '0.1', '0.0101', undefined, undefined, '3', '10', '0', '0.1', ...serving),
        row('v2', 'treatment', '4', '1', '0.4', '0.35', '1.0', '0.4', '6', '4', '1', '0.4', ...serving),
      ]),
    );

    // Act
    const result = await analytics().models({ ...range, limit: 1, attributionWindowSeconds: 3600 });

    // Assess
    expect(result).toEqual({
      rows: [
        {
          model_version: 'v1',
          variant: 'control',
          impressions: 10,
          clicks: 0,
          sum_probability: 0.1,
          log_loss: 0.0101,
          auc: null,
          bin: 3,
          bin_impressions: 10,
          bin_clicks: 0,
          bin_sum_probability: 0.1,
          serving: {
            predictions: 40,
            fallback_predictions: 3,
            timed_predictions: 0,
            latency_p50_ms: null,
            latency_p99_ms: null,
            explored_predictions: 4,
            sum_exploration_bonus: 2.5,
            explored_impressions: 2,
            explored_clicks: 0,
          },
        },
      ],
      truncated: true,
    });
  });

  it('stops a query that outlives its time budget and rejects with a 503 saying so', async () => {
    // Prepare
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: ID });
    athena.on(GetQueryExecutionCommand).resolves(execution({ State: 'RUNNING' }));
    athena.on(StopQueryExecutionCommand).resolves({});

    // Act
    const error = await analytics({ poll: { maxTotalMs: 5_000 } })
      .adPerformance(adQuery)
      .catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(AthenaQueryTimeoutError);
    expect((error as Error).message).toBe(`Athena query ${ID} did not finish within 5000 ms; it was cancelled`);
    expect(toProblem(error).status).toBe(503);
    expect(athena.commandCalls(StopQueryExecutionCommand).map((c) => c.args[0].input)).toEqual([
      { QueryExecutionId: ID },
    ]);
    expect(timing.slept.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(5_000);
    expect(athena.commandCalls(GetQueryResultsCommand)).toHaveLength(0);
  });

  it('still rejects with the 503 when stopping the timed-out query fails', async () => {
    // Prepare
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: ID });
    athena.on(GetQueryExecutionCommand).resolves(execution({ State: 'QUEUED' }));
    athena.on(StopQueryExecutionCommand).rejects(new Error('socket hang up'));

    // Act
    const error = await analytics({ poll: { maxTotalMs: 1_000 } })
      .adPerformance(adQuery)
      .catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(AthenaQueryTimeoutError);
    expect((error as AthenaQueryTimeoutError).cancelled).toBe(false);
    expect((error as Error).message).toContain('cancelling it failed');
  });

  it('rejects a query Athena failed as the query’s own fault with its reason (a 500)', async () => {
    // Prepare
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: ID });
    const reason = "TABLE_NOT_FOUND: line 12:8: Table 'awsdatacatalog.adclick_lake.ad_impressions' does not exist";
    athena.on(GetQueryExecutionCommand).resolves(
      execution({
        State: 'FAILED',
        StateChangeReason: reason,
        AthenaError: { ErrorCategory: 2, ErrorType: 1301, Retryable: false, ErrorMessage: reason },
      }),
    );

    // Act
    const error = await analytics()
      .adPerformance(adQuery)
      .catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(AthenaQueryFailedError);
    expect((error as Error).message).toBe(`Athena query ${ID} failed (category 2, type 1301): ${reason}`);
    expect(toProblem(error).status).toBe(500);
    expect(athena.commandCalls(StopQueryExecutionCommand)).toHaveLength(0);
  });

  it.each([
    ['a system error', { ErrorCategory: 1, ErrorType: 100, Retryable: true, ErrorMessage: 'Internal service error' }],
    [
      'exhausted resources',
      {
        ErrorCategory: 2,
        ErrorType: 4,
        Retryable: false,
        ErrorMessage: 'Query exhausted resources at this scale factor',
      },
    ],
  ])('rejects a query that failed with %s as a 503 with its reason', async (_, athenaError) => {
    // Prepare
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: ID });
    athena
      .on(GetQueryExecutionCommand)
      .resolves(execution({ State: 'FAILED', StateChangeReason: athenaError.ErrorMessage, AthenaError: athenaError }));

    // Act
    const error = await analytics()
      .userSegments({ ...range, dimension: 'location', limit: 5, attributionWindowSeconds: 3600 })
      .catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(AthenaUnavailableError);
    expect((error as Error).message).toContain(athenaError.ErrorMessage);
    expect(toProblem(error).status).toBe(503);
  });

  it('rejects a query cancelled by someone else as a 503', async () => {
    // Prepare
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: ID });
    athena
      .on(GetQueryExecutionCommand)
      .resolves(execution({ State: 'CANCELLED', StateChangeReason: 'Query cancelled by user' }));

    // Act
    const error = await analytics()
      .fraud({ ...range, granularity: 'day', limit: 5, attributionWindowSeconds: 3600 })
      .catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(AthenaUnavailableError);
    expect((error as Error).message).toBe(`Athena query ${ID} was cancelled: Query cancelled by user`);
  });

  it('keeps polling through a throttled GetQueryExecution', async () => {
    // Prepare
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: ID });
    const throttled = Object.assign(new Error('Rate exceeded'), {
      name: 'TooManyRequestsException',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
    });
    athena
      .on(GetQueryExecutionCommand)
      .rejectsOnce(throttled)
      .resolves(execution({ State: 'SUCCEEDED' }));
    athena.on(GetQueryResultsCommand).resolves(page(AD_COLUMNS, [header(AD_COLUMNS)]));

    // Act
    const result = await analytics().adPerformance(adQuery);

    // Assess
    expect(result.rows).toEqual([]);
    expect(athena.commandCalls(GetQueryExecutionCommand)).toHaveLength(2);
  });

  it('rejects with a 503 when Athena refuses to start the query for throttling', async () => {
    // Prepare
    const throttled = Object.assign(new Error('Too many queued queries'), {
      name: 'TooManyRequestsException',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
    });
    athena.on(StartQueryExecutionCommand).rejects(throttled);

    // Act
    const error = await analytics()
      .adPerformance(adQuery)
      .catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(AthenaUnavailableError);
    expect(toProblem(error).status).toBe(503);
  });
});
