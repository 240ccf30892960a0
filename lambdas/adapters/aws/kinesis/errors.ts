/** The errors the Kinesis event log rejects with. */
import { DependencyUnavailableError } from '../../../core/errors.js';

/**
 * A row that cannot be appended (does not fit its table, has no stream, or is over the record
 * size limit); nothing of the append was sent. The same shape and message as the local log's
 * EventLogRowError: a TypeError naming the row's index, since the use cases validate input
 * first and such a row is a programming error, not a client's.
 */
export class KinesisRowError extends TypeError {
  constructor(
    readonly index: number,
    detail: string,
  ) {
    super(`row ${index}: ${detail}`);
    this.name = 'KinesisRowError';
  }
}

/**
 * Kinesis did not accept every record within the retry budget, or refused the request outright
 * (missing stream, no permission): nothing is acknowledged, so the caller answers 503 and its
 * client retries. `unaccepted` counts the records left over; the others are in the stream.
 */
export class KinesisUnavailableError extends DependencyUnavailableError {
  constructor(
    message: string,
    readonly unaccepted: number,
    options?: { cause?: unknown },
  ) {
    super(message);
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}
