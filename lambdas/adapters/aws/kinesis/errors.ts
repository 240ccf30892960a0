/**
 * The errors the Kinesis event log rejects with, besides the shared EventLogRowError for a row
 * that cannot be appended (does not fit its table, has no stream, or is over the record size).
 */
import { DependencyUnavailableError } from '../../../core/errors.js';

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
