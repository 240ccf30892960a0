/** The errors the Athena analytics adapter rejects with. */
import type { AthenaError } from '@aws-sdk/client-athena';
import { DependencyUnavailableError } from '../../../core/errors.js';

/**
 * Athena cannot answer now (a 503: the client may retry later): the query outlived its time
 * budget and was cancelled, failed inside Athena (system error, retryable, out of resources,
 * engine timeout), was cancelled by someone else, or the API itself failed transiently.
 */
export class AthenaUnavailableError extends DependencyUnavailableError {
  constructor(
    message: string,
    readonly queryExecutionId: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message);
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}

/** The query was still running when its time budget ran out; `cancelled` says whether StopQueryExecution took. */
export class AthenaQueryTimeoutError extends AthenaUnavailableError {
  constructor(
    queryExecutionId: string,
    readonly budgetMs: number,
    readonly cancelled: boolean,
    options?: { cause?: unknown },
  ) {
    super(
      `Athena query ${queryExecutionId} did not finish within ${budgetMs} ms; ` +
        (cancelled ? 'it was cancelled' : 'cancelling it failed'),
      queryExecutionId,
      options,
    );
  }
}

/**
 * Athena refused the query itself (its ErrorCategory is USER or OTHER: bad SQL, a missing
 * table or partition projection, no permission on the bucket or Glue table). Not a client's
 * fault, since every request is validated before it becomes parameters, and retrying cannot fix
 * it: a plain Error, so it surfaces as a 500 with the reason in the logs.
 */
export class AthenaQueryFailedError extends Error {
  constructor(
    message: string,
    readonly queryExecutionId: string,
    readonly athenaError: AthenaError | undefined,
  ) {
    super(message);
    this.name = 'AthenaQueryFailedError';
  }
}

const SYSTEM_CATEGORY = 1;
/** Error types that a smaller load or a later attempt can avoid: resources exhausted (0-8), engine timeouts. */
const CAPACITY_TYPES: ReadonlySet<number> = new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 206, 210]);

/** True when a FAILED query is Athena's trouble (503) rather than the query's (500). */
export function isAthenaSideFailure(error: AthenaError | undefined): boolean {
  if (error === undefined) return false;
  if (error.Retryable === true || error.ErrorCategory === SYSTEM_CATEGORY) return true;
  return error.ErrorType !== undefined && CAPACITY_TYPES.has(error.ErrorType);
}
