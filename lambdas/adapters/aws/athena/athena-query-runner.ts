/**
 * Runs one shared SQL file on Athena and returns its rows typed as DuckDB gives them locally:
 * StartQueryExecution in the configured workgroup and Glue database with the values bound as
 * execution parameters, GetQueryExecution polled with capped exponential backoff and full jitter
 * until the query ends, then GetQueryResults page by page.
 *
 * Time budget. One budget (`poll.maxTotalMs`, default 20 s: under API Gateway's 29 s, with room
 * to read the results) covers starting and waiting. A wait that would end past it stops the
 * query (StopQueryExecution, so it is not billed on) and rejects with AthenaQueryTimeoutError, a
 * 503. Reading the results of a finished query is not cut short.
 *
 * Failures. A FAILED query whose AthenaError is Athena's trouble (SYSTEM category, retryable,
 * resources exhausted, engine timeout) and a query CANCELLED by someone else reject with
 * AthenaUnavailableError (503); one that Athena says is the query's own fault (bad SQL, a missing
 * table, no permission) with AthenaQueryFailedError (500: nothing the client sent can cause it).
 * API calls failing with throttling, a 5xx or a network error (after the SDK client's own
 * retries) are AthenaUnavailableError too; while polling they are retried within the budget.
 */
import {
  type AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  type QueryExecutionStatus,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import type { Logger } from '../../../core/ports.js';
import { loadSql } from '../../shared/sql-files.js';
import type { SqlParam, SqlRow } from '../../shared/sql-values.js';
import { type BackoffOptions, fullJitterDelay, realTiming, type Timing } from '../backoff.js';
import {
  AthenaQueryFailedError,
  AthenaQueryTimeoutError,
  AthenaUnavailableError,
  isAthenaSideFailure,
} from './errors.js';
import { typedRows } from './result-values.js';
import { executionParameters } from './sql-literal.js';

/** What the runner needs of an AthenaClient (an AthenaClient is one). */
export type AthenaSender = Pick<AthenaClient, 'send'>;

export interface AthenaQueryConfig {
  /** The workgroup: its engine version, result location, encryption and scan limits apply. */
  readonly workgroup: string;
  /** The Glue database holding the lake tables. */
  readonly database: string;
  /** The data catalog. Default: Athena's (AwsDataCatalog). */
  readonly catalog?: string;
  /** Where results go, when the workgroup does not enforce its own. */
  readonly outputLocation?: string;
  /** Waits between polls and the total budget. Default: 100 ms doubling to 1 s, 20 s in all. */
  readonly poll?: BackoffOptions;
  /** Rows per GetQueryResults page (at most 1 000, the default). */
  readonly pageSize?: number;
  /** Where retried polls and failed cancellations are reported. Default: nowhere. */
  readonly logger?: Logger;
  /** Clock, sleep and randomness of the polling (a test hook). */
  readonly timing?: Partial<Timing>;
}

export const DEFAULT_ATHENA_POLL: Required<BackoffOptions> = {
  baseDelayMs: 100,
  maxDelayMs: 1_000,
  maxTotalMs: 20_000,
};

const TRANSIENT_ERRORS: ReadonlySet<string> = new Set([
  'TooManyRequestsException',
  'ThrottlingException',
  'InternalServerException',
  'TimeoutError',
  'RequestTimeout',
]);

interface SdkError {
  readonly name?: string;
  readonly message?: string;
  readonly $fault?: 'client' | 'server';
  readonly $metadata?: { readonly httpStatusCode?: number };
}

/** Throttling, a server fault or no HTTP answer at all (a network error): a later call may work. */
function isTransient(err: unknown): boolean {
  const e = err as SdkError;
  if (typeof e !== 'object' || e === null) return false;
  return TRANSIENT_ERRORS.has(e.name ?? '') || e.$fault === 'server' || e.$metadata === undefined;
}

const describe = (err: unknown): string => (err instanceof Error ? `${err.name}: ${err.message}` : String(err));

const noop = (): void => {};
const silent: Logger = { info: noop, warn: noop, error: noop };

export class AthenaQueryRunner {
  private readonly poll: Required<BackoffOptions>;
  private readonly timing: Timing;
  private readonly pageSize: number;
  private readonly logger: Logger;

  constructor(
    private readonly client: AthenaSender,
    private readonly config: AthenaQueryConfig,
  ) {
    this.poll = { ...DEFAULT_ATHENA_POLL, ...config.poll };
    this.timing = { ...realTiming, ...config.timing };
    this.pageSize = Math.min(1_000, Math.max(1, config.pageSize ?? 1_000));
    this.logger = config.logger ?? silent;
  }

  /** Runs `sql/<name>.sql` (Athena's text) with its `?` bound to `params`, in order. */
  async run(name: string, params: readonly SqlParam[]): Promise<SqlRow[]> {
    const deadline = this.timing.now() + this.poll.maxTotalMs;
    const id = await this.start(name, params);
    await this.waitUntilDone(id, deadline);
    return this.results(id);
  }

  private async start(name: string, params: readonly SqlParam[]): Promise<string> {
    const { workgroup, database, catalog, outputLocation } = this.config;
    let id: string | undefined;
    try {
      const out = await this.client.send(
        new StartQueryExecutionCommand({
          QueryString: loadSql(name, 'athena'),
          WorkGroup: workgroup,
          QueryExecutionContext: { Database: database, ...(catalog === undefined ? {} : { Catalog: catalog }) },
          ...(params.length === 0 ? {} : { ExecutionParameters: executionParameters(params) }),
          ...(outputLocation === undefined ? {} : { ResultConfiguration: { OutputLocation: outputLocation } }),
        }),
      );
      id = out.QueryExecutionId;
    } catch (err) {
      throw this.apiFailure('StartQueryExecution', err, undefined);
    }
    if (id === undefined) throw new AthenaUnavailableError('StartQueryExecution returned no query id', undefined);
    return id;
  }

  /** Polls until the query ends; resolves on SUCCEEDED, rejects otherwise (see the module comment). */
  private async waitUntilDone(id: string, deadline: number): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const delay = fullJitterDelay(attempt, this.poll, this.timing.random);
      if (this.timing.now() + delay > deadline) {
        throw new AthenaQueryTimeoutError(id, this.poll.maxTotalMs, await this.stop(id));
      }
      await this.timing.sleep(delay);
      let status: QueryExecutionStatus | undefined;
      try {
        status = (await this.client.send(new GetQueryExecutionCommand({ QueryExecutionId: id }))).QueryExecution
          ?.Status;
      } catch (err) {
        if (!isTransient(err)) {
          await this.stop(id);
          throw err;
        }
        this.logger.warn('athena poll failed, retrying', { queryExecutionId: id, error: describe(err) });
        continue;
      }
      switch (status?.State) {
        case 'SUCCEEDED':
          return;
        case 'FAILED':
          throw this.queryFailure(id, status);
        case 'CANCELLED':
          throw new AthenaUnavailableError(
            `Athena query ${id} was cancelled${status.StateChangeReason ? `: ${status.StateChangeReason}` : ''}`,
            id,
          );
        default:
        // QUEUED or RUNNING (a query can go back from RUNNING to QUEUED on a transient error).
      }
    }
  }

  private queryFailure(id: string, status: QueryExecutionStatus): Error {
    const error = status.AthenaError;
    const reason = error?.ErrorMessage ?? status.StateChangeReason ?? 'no reason given';
    const codes = error === undefined ? '' : ` (category ${error.ErrorCategory}, type ${error.ErrorType})`;
    const message = `Athena query ${id} failed${codes}: ${reason}`;
    return isAthenaSideFailure(error)
      ? new AthenaUnavailableError(message, id)
      : new AthenaQueryFailedError(message, id, error);
  }

  /** Asks Athena to stop the query; true when it accepted. Never throws: it runs on a failure path. */
  private async stop(id: string): Promise<boolean> {
    try {
      await this.client.send(new StopQueryExecutionCommand({ QueryExecutionId: id }));
      return true;
    } catch (err) {
      this.logger.warn('athena query could not be stopped', { queryExecutionId: id, error: describe(err) });
      return false;
    }
  }

  /** Every page of the results; the first row of the first page is the header, not data. */
  private async results(id: string): Promise<SqlRow[]> {
    const rows: SqlRow[] = [];
    let nextToken: string | undefined;
    let first = true;
    do {
      let page: Awaited<ReturnType<typeof this.getPage>>;
      try {
        page = await this.getPage(id, nextToken);
      } catch (err) {
        throw this.apiFailure('GetQueryResults', err, id);
      }
      const columns = page.ResultSet?.ResultSetMetadata?.ColumnInfo ?? [];
      const data = page.ResultSet?.Rows ?? [];
      rows.push(...typedRows(columns, first ? data.slice(1) : data));
      first = false;
      nextToken = page.NextToken;
    } while (nextToken !== undefined);
    return rows;
  }

  private getPage(id: string, nextToken: string | undefined) {
    return this.client.send(
      new GetQueryResultsCommand({ QueryExecutionId: id, MaxResults: this.pageSize, NextToken: nextToken }),
    );
  }

  private apiFailure(operation: string, err: unknown, id: string | undefined): unknown {
    return isTransient(err)
      ? new AthenaUnavailableError(`Athena ${operation} failed: ${describe(err)}`, id, { cause: err })
      : err;
  }
}
