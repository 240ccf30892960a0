/**
 * The event path of the server, in process: RecordEventsUseCase over the ports it uses in the
 * local server (the HMAC pseudonymiser, the in-memory feature store) and an event log that
 * serialises every row as the durable log does (its RowCodec) but writes nothing, keeping only the
 * `suspicious_events` rows (the benchmark needs the flags, not a disk). Batches of 500 events in
 * arrival order, as an ad server posts them to `/event/batch`, with the clock at the arrival of
 * each batch's last event.
 */
import { RowCodec } from '../../lambdas/adapters/local/event-log/row-codec.js';
import { MemoryFeatureStore } from '../../lambdas/adapters/local/memory-feature-store.js';
import { HmacPseudonymiser } from '../../lambdas/adapters/shared/pseudonymiser.js';
import { LAKE_TABLE_NAMES, type LakeTableName } from '../../lambdas/core/lake/tables.js';
import type { EventLog, FraudDetector, FraudEvent, FraudFlag, LakeRow, Logger } from '../../lambdas/core/ports.js';
import { DEFAULT_CORE_CONFIG, type Deps } from '../../lambdas/core/usecases/deps.js';
import { RecordEventsUseCase } from '../../lambdas/core/usecases/events.js';
import type { TimedEvent } from './traffic.js';

export const BATCH = 500;

/**
 * Serialises each row as the durable event log does before its write (so both paths pay for what
 * the real log costs per row, string flattening included) and keeps the flags' rows; ids are
 * unique in the benchmark, so nothing is a duplicate.
 */
class FlagKeepingLog implements EventLog {
  readonly suspicious: LakeRow['row'][] = [];
  bytes = 0;
  private static readonly NO_DUPLICATES = { duplicates: [] as number[] };
  private readonly codecs = Object.fromEntries(LAKE_TABLE_NAMES.map((t) => [t, new RowCodec(t)])) as Record<
    LakeTableName,
    RowCodec
  >;

  async append(rows: readonly LakeRow[]): Promise<{ duplicates: number[] }> {
    for (const r of rows) {
      const codec = this.codecs[r.table];
      const payload = codec.serialize(r.row);
      if (payload === null) throw new Error(`row of ${r.table} refused: ${codec.problem}`);
      this.bytes += payload.length;
      if (r.table === 'suspicious_events') this.suspicious.push(r.row);
    }
    return FlagKeepingLog.NO_DUPLICATES;
  }
}

/** The baseline: the same event path with a detector that looks at nothing. */
export class NoFraudDetector implements FraudDetector {
  private static readonly NONE: FraudFlag[] = [];

  async inspect(_events: readonly FraudEvent[]): Promise<FraudFlag[]> {
    return NoFraudDetector.NONE;
  }
}

const silent: Logger = { info() {}, warn() {}, error() {} };

export interface IngestRun {
  readonly suspicious: readonly LakeRow['row'][];
  readonly seconds: number;
  readonly events: number;
  readonly rejected: number;
}

/** Feeds the events through the use case with `fraud` as its detector. */
export async function ingest(events: readonly TimedEvent[], fraud: FraudDetector): Promise<IngestRun> {
  const log = new FlagKeepingLog();
  let now = 0;
  const deps = {
    events: log,
    fraud,
    features: new MemoryFeatureStore(),
    pseudonymiser: new HmacPseudonymiser(Buffer.alloc(32, 7)),
    clock: { now: () => new Date(now) },
    logger: silent,
    config: DEFAULT_CORE_CONFIG,
  } satisfies Partial<Deps>;
  // The event path reads only these ports; the others stay out of the benchmark.
  const useCase = new RecordEventsUseCase(deps as unknown as Deps);
  let rejected = 0;
  const t0 = performance.now();
  for (let i = 0; i < events.length; i += BATCH) {
    const batch = events.slice(i, i + BATCH);
    now = batch[batch.length - 1]!.arrivalMs;
    const results = await useCase.batch(batch.map((e) => e.body));
    for (const r of results) if (r.status === 'rejected') rejected++;
  }
  const seconds = (performance.now() - t0) / 1000;
  return { suspicious: log.suspicious, seconds, events: events.length, rejected };
}
