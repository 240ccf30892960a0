/**
 * The AWS EventLog: each lake table's rows go to that table's Kinesis data stream (which feeds
 * the table's Firehose, converting to Parquet against the Glue schema).
 *
 * Acknowledgement. `append` resolves only once Kinesis has accepted every record of the call, so
 * the use case sends its 202 after that. Records go out in PutRecords requests of at most 500
 * records and 5 MiB; records a response reports failed (per-record ErrorCode) are re-sent alone,
 * and a request that fails as a whole with a retryable error (throttling, 5xx, network) is
 * re-sent whole, after a capped exponential backoff with full jitter. When the append's time
 * budget runs out, or on an error retrying cannot fix (missing stream, no permission), `append`
 * rejects with KinesisUnavailableError: some records may be in the stream already, and the
 * caller's retry may add them again (the lake is at least once; readers de-duplicate).
 *
 * Validation. Every row is validated and serialised before anything is sent: a row that does not
 * fit its table, has no stream configured, or would be a record over 1 MiB rejects the whole
 * append with EventLogRowError.
 *
 * Partition key. The row's id column: ids are random, so keys spread over the shards, and a
 * replay of an id lands on the same shard as the original.
 *
 * De-duplication (optional, on by default). A per-process set of recent (table, id) hashes, the
 * local log's RecentIds (~16 bytes an id; by default at least 1 h, capped at 200 000 ids, ~3 MB):
 * a row already accepted in this process within the window is not sent again and is reported in
 * `duplicates`. In Lambda the window is one container's, so replays reaching another container
 * are sent again; readers de-duplicate on the id column anyway.
 */
import { createHash } from 'node:crypto';
import type { PutRecordsCommandOutput, PutRecordsResultEntry } from '@aws-sdk/client-kinesis';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { LAKE_TABLE_NAMES, type LakeTableName } from '../../../core/lake/tables.js';
import type { EventLog, LakeRow, Logger } from '../../../core/ports.js';
import { RecentIds } from '../../local/event-log/recent-ids.js';
import { EventLogRowError } from '../../shared/event-log-errors.js';
import { type BackoffOptions, DEFAULT_BACKOFF, fullJitterDelay, realTiming, type Timing } from '../backoff.js';
import { describeError as describe, isRetryableSdkError as isRetryable } from '../sdk-errors.js';
import { KinesisUnavailableError } from './errors.js';
import { LakeJsonCodec } from './lake-json.js';
import { MAX_BYTES_PER_RECORD, MAX_PARTITION_KEY_LENGTH, splitIntoRequests } from './record-batches.js';

/** What the adapter needs of a KinesisClient (a KinesisClient is one). */
export interface PutRecordsClient {
  send(command: PutRecordsCommand): Promise<PutRecordsCommandOutput>;
}

export interface KinesisEventLogConfig {
  /** The stream of each lake table this log writes; a row of another table is refused. */
  readonly streams: Readonly<Partial<Record<LakeTableName, string>>>;
  readonly retry?: BackoffOptions;
  /** PutRecords requests in flight at once for one append. Default 4. */
  readonly maxConcurrentRequests?: number;
  /** The recent-id window, or false to send every row. Default 1 h, at most 200 000 ids. */
  readonly dedup?: false | { readonly windowMs?: number; readonly maxIds?: number };
  /** Where retries are reported. Default: nowhere. */
  readonly logger?: Logger;
  /** Clock, sleep and randomness of the backoff (a test hook). */
  readonly timing?: Partial<Timing>;
}

export interface KinesisEventLogStats {
  /** PutRecords requests sent, retries included. */
  readonly requests: number;
  /** Records accepted by Kinesis. */
  readonly recordsAccepted: number;
  /** Records re-sent after a failure. */
  readonly recordsRetried: number;
  /** Rows not sent because their id was in the window. */
  readonly duplicates: number;
}

export const DEFAULT_DEDUP_WINDOW_MS = 3_600_000;
export const DEFAULT_DEDUP_MAX_IDS = 200_000;

interface PendingRecord {
  readonly data: Buffer;
  readonly partitionKey: string;
  readonly bytes: number;
  /** Its (table, id) hash in the recent-id window, or -1 when not remembered. */
  readonly hi: number;
  readonly lo: number;
  accepted: boolean;
}

interface Request {
  readonly stream: string;
  readonly records: PendingRecord[];
}

const noop = (): void => {};
const silent: Logger = { info: noop, warn: noop, error: noop };

export class KinesisEventLog implements EventLog {
  private readonly client: PutRecordsClient;
  private readonly streams: ReadonlyMap<LakeTableName, string>;
  private readonly codecs: ReadonlyMap<LakeTableName, LakeJsonCodec>;
  private readonly backoff: Required<BackoffOptions>;
  private readonly timing: Timing;
  private readonly concurrency: number;
  private readonly logger: Logger;
  private readonly ids: RecentIds | null;
  /** Appends being sent: a duplicate is acknowledged only once its original's append is. */
  private readonly inflight = new Set<Promise<void>>();
  private counters = { requests: 0, recordsAccepted: 0, recordsRetried: 0, duplicates: 0 };

  constructor(client: PutRecordsClient, config: KinesisEventLogConfig) {
    this.client = client;
    const streams = new Map<LakeTableName, string>();
    const codecs = new Map<LakeTableName, LakeJsonCodec>();
    for (const table of LAKE_TABLE_NAMES) {
      const stream = config.streams[table];
      if (stream === undefined) continue;
      streams.set(table, stream);
      codecs.set(table, new LakeJsonCodec(table));
    }
    this.streams = streams;
    this.codecs = codecs;
    this.backoff = { ...DEFAULT_BACKOFF, ...config.retry };
    this.timing = { ...realTiming, ...config.timing };
    this.concurrency = Math.max(1, config.maxConcurrentRequests ?? 4);
    this.logger = config.logger ?? silent;
    this.ids =
      config.dedup === false
        ? null
        : new RecentIds({
            windowMs: config.dedup?.windowMs ?? DEFAULT_DEDUP_WINDOW_MS,
            maxIds: config.dedup?.maxIds ?? DEFAULT_DEDUP_MAX_IDS,
            now: this.timing.now,
          });
  }

  /**
   * Sends the rows to their tables' streams and resolves once Kinesis accepted all of them (see
   * the module comment). Rejects with EventLogRowError, sending nothing, when a row cannot be
   * appended; with KinesisUnavailableError when Kinesis did not accept every record in time.
   */
  append(rows: readonly LakeRow[]): Promise<{ duplicates: number[] }> {
    let records: PendingRecord[];
    try {
      records = this.encode(rows);
    } catch (err) {
      return Promise.reject(err);
    }
    const duplicates: number[] = [];
    const byStream = new Map<string, PendingRecord[]>();
    const ids = this.ids;
    ids?.tick();
    for (let i = 0; i < rows.length; i++) {
      const r = records[i]!;
      if (ids !== null && !ids.add(r.hi, r.lo)) {
        duplicates.push(i);
        continue;
      }
      const stream = this.streams.get(rows[i]!.table)!;
      const list = byStream.get(stream);
      if (list === undefined) byStream.set(stream, [r]);
      else list.push(r);
    }
    this.counters.duplicates += duplicates.length;
    const result = { duplicates };
    // Duplicates' originals may still be on their way: wait for every append sent before this one.
    const earlier = duplicates.length > 0 ? [...this.inflight] : [];
    if (byStream.size === 0) return Promise.all(earlier).then(() => result);

    const sending = this.send(byStream);
    this.inflight.add(sending);
    const forget = (): void => {
      this.inflight.delete(sending);
    };
    sending.then(forget, forget);
    return Promise.all([sending, ...earlier]).then(() => result);
  }

  stats(): KinesisEventLogStats {
    return { ...this.counters };
  }

  /** Validates and serialises every row (one record each), or throws EventLogRowError. */
  private encode(rows: readonly LakeRow[]): PendingRecord[] {
    const out: PendingRecord[] = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const { table, row } = rows[i]!;
      const codec = this.codecs.get(table);
      if (codec === undefined) {
        throw new EventLogRowError(
          i,
          LAKE_TABLE_NAMES.includes(table) ? `no stream configured for ${table}` : `unknown table ${String(table)}`,
        );
      }
      if (typeof row !== 'object' || row === null) throw new EventLogRowError(i, 'row is not an object');
      const json = codec.serialize(row);
      if (json === null) throw new EventLogRowError(i, codec.problem);
      const id = row[codec.idColumn] as string;
      const partitionKey = id.length <= MAX_PARTITION_KEY_LENGTH ? id : createHash('sha256').update(id).digest('hex');
      const data = Buffer.from(json, 'utf8');
      const bytes = data.length + Buffer.byteLength(partitionKey, 'utf8');
      if (bytes > MAX_BYTES_PER_RECORD) {
        throw new EventLogRowError(
          i,
          `${table} record is ${bytes} bytes, over the Kinesis limit of ${MAX_BYTES_PER_RECORD} bytes a record`,
        );
      }
      let hi = -1;
      let lo = -1;
      if (this.ids !== null) {
        this.ids.hash(LAKE_TABLE_NAMES.indexOf(table), id);
        hi = this.ids.hi;
        lo = this.ids.lo;
      }
      out[i] = { data, partitionKey, bytes, hi, lo, accepted: false };
    }
    return out;
  }

  /**
   * Sends every stream's records, `concurrency` requests at a time, each retried within the
   * append's deadline. Waits for all requests to settle, then rejects with the first failure and
   * forgets the ids of the records not accepted (so a retry of the append sends them again).
   */
  private async send(byStream: ReadonlyMap<string, PendingRecord[]>): Promise<void> {
    const deadline = this.timing.now() + this.backoff.maxTotalMs;
    const requests: Request[] = [];
    for (const [stream, records] of byStream) {
      for (const chunk of splitIntoRequests(records)) requests.push({ stream, records: chunk });
    }
    let next = 0;
    let failure: unknown = null;
    const worker = async (): Promise<void> => {
      while (next < requests.length) {
        const request = requests[next++]!;
        try {
          await this.putWithRetry(request, deadline);
        } catch (err) {
          failure ??= err;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, requests.length) }, worker));
    if (failure === null) return;
    if (this.ids !== null) {
      for (const records of byStream.values()) {
        for (const r of records) if (!r.accepted) this.ids.delete(r.hi, r.lo);
      }
    }
    throw failure;
  }

  private async putWithRetry(request: Request, deadline: number): Promise<void> {
    const { stream } = request;
    let pending = request.records;
    for (let attempt = 0; ; attempt++) {
      let failed: PendingRecord[];
      let reason: string;
      let cause: unknown;
      try {
        this.counters.requests++;
        const output = await this.client.send(
          new PutRecordsCommand({
            StreamName: stream,
            Records: pending.map((r) => ({ Data: r.data, PartitionKey: r.partitionKey })),
          }),
        );
        failed = this.settle(pending, output.Records);
        if (failed.length === 0) return;
        reason = `${failed.length} of ${pending.length} records failed (${errorCodes(output.Records)})`;
      } catch (err) {
        if (!isRetryable(err)) {
          throw new KinesisUnavailableError(`PutRecords to ${stream} failed: ${describe(err)}`, pending.length, {
            cause: err,
          });
        }
        failed = pending;
        reason = `PutRecords failed: ${describe(err)}`;
        cause = err;
      }
      const delay = fullJitterDelay(attempt, this.backoff, this.timing.random);
      if (this.timing.now() + delay > deadline) {
        throw new KinesisUnavailableError(
          `Kinesis stream ${stream} did not accept ${failed.length} records within ${this.backoff.maxTotalMs} ms: ${reason}`,
          failed.length,
          { cause },
        );
      }
      this.logger.warn('kinesis records not accepted, retrying', { stream, attempt, delayMs: delay, reason });
      this.counters.recordsRetried += failed.length;
      pending = failed;
      await this.timing.sleep(delay);
    }
  }

  /** Marks the records the response accepted; returns the others, in order. */
  private settle(sent: PendingRecord[], results: PutRecordsResultEntry[] | undefined): PendingRecord[] {
    // A response that does not account for every record proves nothing about the ones it omits.
    if (results === undefined || results.length !== sent.length) return sent;
    const failed: PendingRecord[] = [];
    for (let i = 0; i < sent.length; i++) {
      if (results[i]!.ErrorCode) failed.push(sent[i]!);
      else sent[i]!.accepted = true;
    }
    this.counters.recordsAccepted += sent.length - failed.length;
    return failed;
  }
}

function errorCodes(results: PutRecordsResultEntry[] | undefined): string {
  const counts = new Map<string, number>();
  for (const r of results ?? []) if (r.ErrorCode) counts.set(r.ErrorCode, (counts.get(r.ErrorCode) ?? 0) + 1);
  return counts.size === 0 ? 'no per-record results' : [...counts].map(([code, n]) => `${code} ×${n}`).join(', ');
}
