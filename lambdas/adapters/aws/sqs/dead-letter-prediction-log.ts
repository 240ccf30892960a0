/**
 * The prediction log, never lost under DynamoDB throttling: a PredictionLog decorator over the
 * DynamoDB log that, when a write fails as unavailable (after the SDK client's own retries),
 * parks the records on an SQS dead-letter queue and answers as if they were written. The redrive
 * consumer (lambdas/handlers/prediction-log-redrive.ts) puts them back later.
 */
import type {
  SendMessageBatchCommand,
  SendMessageBatchCommandOutput,
  SendMessageBatchRequestEntry,
} from '@aws-sdk/client-sqs';
import { DependencyUnavailableError } from '../../../core/errors.js';
import type { Logger, PredictionLog, PredictionRecord } from '../../../core/ports.js';
import { type BackoffOptions, fullJitterDelay, realTiming, type Timing } from '../backoff.js';
import { packPredictionMessages, SQS_MAX_MESSAGE_BYTES } from './prediction-log-packing.js';

/** What the decorator needs of an SQSClient (an SQSClient is one). */
export interface SendMessageBatchClient {
  send(command: SendMessageBatchCommand): Promise<SendMessageBatchCommandOutput>;
}

export interface DeadLetterPredictionLogOptions {
  /** URL of the dead-letter queue (standard queue). */
  readonly queueUrl: string;
  /** Retries of failed entries; default 20 ms first ceiling, 200 ms cap, 1 s in all (a request is waiting). */
  readonly retry?: BackoffOptions;
  readonly logger?: Logger;
  /** Bytes of one message body. Default SQS's 256 KiB. */
  readonly maxMessageBytes?: number;
  /** Clock, sleep and randomness of the backoff (a test hook). */
  readonly timing?: Partial<Timing>;
}

/** Entries in one SendMessageBatch request. */
export const SQS_MAX_BATCH_ENTRIES = 10;

/** Bytes of the message bodies of one SendMessageBatch request together. */
export const SQS_MAX_BATCH_BYTES = 256 * 1024;

export const DEAD_LETTER_RETRY: Required<BackoffOptions> = { baseDelayMs: 20, maxDelayMs: 200, maxTotalMs: 1_000 };

/** Names of DynamoDB (and SDK) errors that say "not now", as opposed to "never". */
const UNAVAILABLE_ERRORS: ReadonlySet<string> = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);

const NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * Whether a failed putAll is worth parking: throttling, server faults, timeouts and network
 * errors. A validation error, a missing table or a denied permission is a bug or a broken
 * deployment; parking its records would only move the failure to the redrive, so it is rethrown.
 */
export function isUnavailable(err: unknown): boolean {
  if (err instanceof DependencyUnavailableError) return true;
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { name?: string; code?: string; $fault?: string; $retryable?: unknown };
  return (
    UNAVAILABLE_ERRORS.has(e.name ?? '') ||
    e.$fault === 'server' ||
    Boolean(e.$retryable) ||
    NETWORK_CODES.has(e.code ?? '')
  );
}

const NOOP_LOGGER: Logger = { info: () => {}, warn: () => {}, error: () => {} };

/**
 * `putAll` writes through the inner log. When that fails as unavailable, every record of the
 * call is sent to the queue (the inner log writes in parallel and reports only its first
 * failure, so which records did land is unknown; the redrive finds those already stored), a
 * warning is logged, and the call resolves with `duplicates: []`.
 *
 * Why answering "written, no duplicates" is safe: the records are durable in SQS, and the
 * redrive writes them with the same conditional put on prediction_id, so the log stays write-once
 * whatever happens meanwhile — a record that did land, a redrive replayed, or the client retrying
 * with its request_id before the redrive (its re-scored record is written first, and the parked
 * copy is then a duplicate the redrive drops). What the caller gives up is the read of a
 * concurrent twin's winning record: two racing copies of one request could each be served their
 * own score while the log keeps one. Until the redrive runs, getMany does not see the records.
 *
 * When the queue cannot take them either, the call rejects with DependencyUnavailableError (a
 * 503: nothing was acknowledged and the client retries with its request_id). `getMany` delegates.
 */
export class DeadLetterPredictionLog implements PredictionLog {
  private readonly backoff: Required<BackoffOptions>;
  private readonly timing: Timing;
  private readonly logger: Logger;

  constructor(
    private readonly inner: PredictionLog,
    private readonly sqs: SendMessageBatchClient,
    private readonly options: DeadLetterPredictionLogOptions,
  ) {
    this.backoff = { ...DEAD_LETTER_RETRY, ...options.retry };
    this.timing = { ...realTiming, ...options.timing };
    this.logger = options.logger ?? NOOP_LOGGER;
  }

  async putAll(records: readonly PredictionRecord[]): Promise<{ duplicates: number[] }> {
    try {
      return await this.inner.putAll(records);
    } catch (err) {
      if (!isUnavailable(err)) throw err;
      try {
        await this.park(records);
      } catch (sqsErr) {
        this.logger.error('prediction log and its dead-letter queue both unavailable', {
          records: records.length,
          error: describe(err),
          queueError: describe(sqsErr),
        });
        if (err instanceof DependencyUnavailableError) throw err;
        const unavailable = new DependencyUnavailableError(
          'The prediction log is unavailable; retry the request with the same request_id.',
        );
        unavailable.cause = err;
        throw unavailable;
      }
      this.logger.warn('prediction log unavailable: records parked on the dead-letter queue', {
        records: records.length,
        error: describe(err),
      });
      return { duplicates: [] };
    }
  }

  getMany(predictionIds: readonly string[]): Promise<(PredictionRecord | undefined)[]> {
    return this.inner.getMany(predictionIds);
  }

  /** Sends the records as messages, ≤ 10 a request and ≤ 256 KiB a request; rejects unless all are queued. */
  private async park(records: readonly PredictionRecord[]): Promise<void> {
    const maxBytes = this.options.maxMessageBytes ?? SQS_MAX_MESSAGE_BYTES;
    const { bodies, tooLarge } = packPredictionMessages(records, maxBytes);
    if (tooLarge.length > 0) {
      throw new Error(`${tooLarge.length} records are over the SQS message size of ${maxBytes} bytes`);
    }
    const deadline = this.timing.now() + this.backoff.maxTotalMs;
    const requests: SendMessageBatchRequestEntry[][] = [];
    let current: SendMessageBatchRequestEntry[] = [];
    let bytes = 0;
    bodies.forEach((body, i) => {
      const size = Buffer.byteLength(body);
      if (current.length === SQS_MAX_BATCH_ENTRIES || (current.length > 0 && bytes + size > SQS_MAX_BATCH_BYTES)) {
        requests.push(current);
        current = [];
        bytes = 0;
      }
      // Ids need only be unique within a request; the index keeps them readable in logs.
      current.push({ Id: `m${i}`, MessageBody: body });
      bytes += size;
    });
    if (current.length > 0) requests.push(current);
    await Promise.all(requests.map((entries) => this.sendWithRetry(entries, deadline)));
  }

  private async sendWithRetry(entries: SendMessageBatchRequestEntry[], deadline: number): Promise<void> {
    // Imported when a write is first parked: throttling is rare, and the predict function's cold
    // start should not load the SQS package for it.
    const { SendMessageBatchCommand } = await import('@aws-sdk/client-sqs');
    let pending = entries;
    for (let attempt = 0; ; attempt++) {
      let reason: string;
      try {
        const out = await this.sqs.send(
          new SendMessageBatchCommand({ QueueUrl: this.options.queueUrl, Entries: pending }),
        );
        const failed = new Map((out.Failed ?? []).map((f) => [f.Id, f]));
        const succeeded = new Set((out.Successful ?? []).map((s) => s.Id));
        const permanent = [...failed.values()].filter((f) => f.SenderFault);
        if (permanent.length > 0) {
          throw new QueueRefusedError(
            `SQS refused ${permanent.length} messages: ${permanent[0]!.Code} ${permanent[0]!.Message ?? ''}`,
          );
        }
        // An entry the response does not list as successful was not queued.
        pending = pending.filter((e) => !succeeded.has(e.Id));
        if (pending.length === 0) return;
        const first = failed.values().next().value;
        reason = first ? `${first.Code}: ${first.Message ?? ''}` : 'entries missing from the response';
      } catch (err) {
        if (err instanceof QueueRefusedError || !isRetryableSqsError(err)) throw err;
        reason = describe(err);
      }
      const delay = fullJitterDelay(attempt, this.backoff, this.timing.random);
      if (this.timing.now() + delay > deadline) {
        throw new Error(`SQS did not queue ${pending.length} messages within ${this.backoff.maxTotalMs} ms: ${reason}`);
      }
      this.logger.warn('dead-letter messages not queued, retrying', { attempt, delayMs: delay, reason });
      await this.timing.sleep(delay);
    }
  }
}

/** SQS marked an entry as the sender's fault: sending it again cannot succeed. */
class QueueRefusedError extends Error {
  override name = 'QueueRefusedError';
}

const RETRYABLE_SQS_CLIENT_ERRORS: ReadonlySet<string> = new Set([
  'RequestThrottled',
  'KmsThrottled',
  'ThrottlingException',
]);

function isRetryableSqsError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { name?: string; $fault?: string; $retryable?: unknown };
  if (e.$retryable) return true;
  if (e.$fault === 'client') return RETRYABLE_SQS_CLIENT_ERRORS.has(e.name ?? '');
  // Server faults, and errors without $fault: timeouts and network errors never reached the service.
  return e.$fault === 'server' || !(err instanceof TypeError);
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
