/**
 * Direct PUT into a Firehose delivery stream with PutRecordBatch, for a stream consumer that must
 * know, per input record, what was delivered.
 *
 * Requests hold at most 500 records and 4 MiB; a record over 1,000 KiB is refused before anything
 * is sent. Records a response marks failed (`RequestResponses[i].ErrorCode`, counted by
 * `FailedPutCount`) are re-sent alone; a request failing whole with a retryable error
 * (ServiceUnavailableException is Firehose's throttling, 5xx, network) is re-sent whole; the
 * waits are the shared capped exponential backoff with full jitter. When the time budget runs out,
 * or on an error retrying cannot fix (missing stream, no permission, KMS), the records still
 * undelivered are reported by input index: `putAll` itself does not reject, so the caller can
 * return exactly those in `batchItemFailures`.
 *
 * Firehose concatenates the records of a delivery stream into S3 objects, so each record must end
 * its own line: callers hand in the row's JSON and the writer appends the newline.
 */
import {
  PutRecordBatchCommand,
  type PutRecordBatchCommandOutput,
  type PutRecordBatchResponseEntry,
} from '@aws-sdk/client-firehose';
import type { Logger } from '../../../core/ports.js';
import { type BackoffOptions, DEFAULT_BACKOFF, fullJitterDelay, realTiming, type Timing } from '../backoff.js';
import { describeError as describe, isRetryableSdkError as isRetryable } from '../sdk-errors.js';

/** Records in one PutRecordBatch request. */
export const FIREHOSE_MAX_RECORDS_PER_REQUEST = 500;
/** Bytes of one PutRecordBatch request (the sum of the records' data). */
export const FIREHOSE_MAX_BYTES_PER_REQUEST = 4 * 1024 * 1024;
/** Bytes of one record's data, before base64 encoding. */
export const FIREHOSE_MAX_BYTES_PER_RECORD = 1_000 * 1024;

/** What the writer needs of a FirehoseClient (a FirehoseClient is one). */
export interface PutRecordBatchClient {
  send(command: PutRecordBatchCommand): Promise<PutRecordBatchCommandOutput>;
}

export interface FirehoseWriterOptions {
  readonly deliveryStreamName: string;
  /** Default: the shared backoff (50 ms first ceiling, 1 s cap, 3 s in all). */
  readonly retry?: BackoffOptions;
  /** PutRecordBatch requests in flight at once. Default 4. */
  readonly maxConcurrentRequests?: number;
  readonly logger?: Logger;
  /** Clock, sleep and randomness of the backoff (a test hook). */
  readonly timing?: Partial<Timing>;
}

export interface FirehoseFailure {
  /** Index of the record in the `putAll` input. */
  readonly index: number;
  /** The last ErrorCode / exception seen for it, or why it was never sent. */
  readonly reason: string;
}

export interface FirehoseWriteResult {
  readonly delivered: number;
  /** Records Firehose did not accept for good, in input order. */
  readonly failed: readonly FirehoseFailure[];
  /** PutRecordBatch requests sent, retries included. */
  readonly requests: number;
}

interface Pending {
  readonly index: number;
  readonly data: Uint8Array;
  reason: string;
}

const NOOP_LOGGER: Logger = { info: () => {}, warn: () => {}, error: () => {} };

export class FirehoseWriter {
  private readonly backoff: Required<BackoffOptions>;
  private readonly timing: Timing;
  private readonly concurrency: number;
  private readonly logger: Logger;

  constructor(
    private readonly client: PutRecordBatchClient,
    private readonly options: FirehoseWriterOptions,
  ) {
    this.backoff = { ...DEFAULT_BACKOFF, ...options.retry };
    this.timing = { ...realTiming, ...options.timing };
    this.concurrency = Math.max(1, options.maxConcurrentRequests ?? 4);
    this.logger = options.logger ?? NOOP_LOGGER;
  }

  /** Delivers each line (a newline is appended to each); never rejects, see the file comment. */
  async putAll(lines: readonly string[]): Promise<FirehoseWriteResult> {
    const failed: FirehoseFailure[] = [];
    const toSend: Pending[] = [];
    lines.forEach((line, index) => {
      const data = Buffer.from(`${line}\n`, 'utf8');
      if (data.length > FIREHOSE_MAX_BYTES_PER_RECORD) {
        failed.push({ index, reason: `record is ${data.length} bytes, over ${FIREHOSE_MAX_BYTES_PER_RECORD}` });
      } else toSend.push({ index, data, reason: '' });
    });
    const deadline = this.timing.now() + this.backoff.maxTotalMs;
    let requests = 0;
    const chunks = split(toSend);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < chunks.length) {
        const chunk = chunks[next++]!;
        const left = await this.putWithRetry(chunk, deadline, () => requests++);
        for (const p of left) failed.push({ index: p.index, reason: p.reason });
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, chunks.length) }, worker));
    failed.sort((a, b) => a.index - b.index);
    return { delivered: lines.length - failed.length, failed, requests };
  }

  /** Sends one request's records until all are accepted or the deadline; returns the rest. */
  private async putWithRetry(records: Pending[], deadline: number, counted: () => void): Promise<Pending[]> {
    const stream = this.options.deliveryStreamName;
    let pending = records;
    for (let attempt = 0; ; attempt++) {
      try {
        counted();
        const output = await this.client.send(
          new PutRecordBatchCommand({
            DeliveryStreamName: stream,
            Records: pending.map((p) => ({ Data: p.data })),
          }),
        );
        pending = notAccepted(pending, output);
        if (pending.length === 0) return [];
      } catch (err) {
        const reason = describe(err);
        for (const p of pending) p.reason = reason;
        if (!isRetryable(err)) {
          this.logger.error('firehose refused the request', { stream, records: pending.length, reason });
          return pending;
        }
      }
      const delay = fullJitterDelay(attempt, this.backoff, this.timing.random);
      if (this.timing.now() + delay > deadline) {
        this.logger.error('firehose records not accepted within the retry budget', {
          stream,
          records: pending.length,
          maxTotalMs: this.backoff.maxTotalMs,
          reason: pending[0]!.reason,
        });
        return pending;
      }
      this.logger.warn('firehose records not accepted, retrying', {
        stream,
        attempt,
        delayMs: delay,
        records: pending.length,
        reason: pending[0]!.reason,
      });
      await this.timing.sleep(delay);
    }
  }
}

/** Splits records, in order, into requests within the record and byte limits. */
function split(records: readonly Pending[]): Pending[][] {
  const requests: Pending[][] = [];
  let current: Pending[] = [];
  let bytes = 0;
  for (const r of records) {
    if (
      current.length === FIREHOSE_MAX_RECORDS_PER_REQUEST ||
      (current.length > 0 && bytes + r.data.length > FIREHOSE_MAX_BYTES_PER_REQUEST)
    ) {
      requests.push(current);
      current = [];
      bytes = 0;
    }
    current.push(r);
    bytes += r.data.length;
  }
  if (current.length > 0) requests.push(current);
  return requests;
}

/** The records a response did not accept, each with its ErrorCode and ErrorMessage. */
function notAccepted(sent: Pending[], output: PutRecordBatchCommandOutput): Pending[] {
  const responses: PutRecordBatchResponseEntry[] | undefined = output.RequestResponses;
  // A response that does not account for every record proves nothing about the ones it omits.
  if (responses === undefined || responses.length !== sent.length) {
    for (const p of sent) p.reason = 'response did not list every record';
    return sent;
  }
  const failed: Pending[] = [];
  responses.forEach((r, i) => {
    if (r.ErrorCode) {
      const p = sent[i]!;
      p.reason = r.ErrorMessage ? `${r.ErrorCode}: ${r.ErrorMessage}` : r.ErrorCode;
      failed.push(p);
    }
  });
  return failed;
}
