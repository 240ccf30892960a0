import { ValidationError } from '../errors.js';
import { siteIdOf, suspiciousEventRow } from '../fraud/lake-rows.js';
import type { CounterEvent, FraudEvent, FraudFlag, LakeRow } from '../ports.js';
import { parseBatchEvent } from '../schemas/event-validation.js';
import type { ClickEvent, EventBatchResult, ImpressionEvent } from '../schemas/events.js';
import type { Deps } from './deps.js';
import { checkedEventTime } from './event-time.js';

const NONE: ReadonlySet<string> = new Set();

export type EventStatus = 'accepted' | 'duplicate';

interface PreparedEvent {
  readonly row: LakeRow;
  /** Counted by the feature store once the event is durable and not a duplicate (nor a flagged click). */
  readonly counter: CounterEvent | null;
  /** What the fraud rules see of it once durable and not a duplicate. */
  readonly fraud: FraudEvent;
}

/**
 * Records impressions and clicks. An event is acknowledged only once the event log holds it
 * durably; a replayed id is acknowledged again but counted once. Fresh events then go through the
 * fraud rules, and their flags are appended as `suspicious_events` rows before the answer.
 */
export class RecordEventsUseCase {
  constructor(private readonly deps: Deps) {}

  async impression(input: ImpressionEvent): Promise<{ status: EventStatus; id: string }> {
    const [status] = await this.appendAll([this.prepareImpression(input, 'timestamp', this.deps.clock.now())]);
    return { status: status!, id: input.impression_id };
  }

  async click(input: ClickEvent): Promise<{ status: EventStatus; id: string }> {
    const [status] = await this.appendAll([this.prepareClick(input, 'timestamp', this.deps.clock.now())]);
    return { status: status!, id: input.click_id };
  }

  /** Each event is validated on its own: one bad event is reported, the others are recorded. */
  async batch(events: readonly unknown[]): Promise<EventBatchResult[]> {
    const results: EventBatchResult[] = new Array(events.length);
    const prepared: PreparedEvent[] = [];
    const indexes: number[] = [];
    // One reading of the clock for the batch: its events arrived together.
    const receivedAt = this.deps.clock.now();
    events.forEach((raw, index) => {
      try {
        const event = parseBatchEvent(raw, `events.${index}`);
        const path = `events.${index}.timestamp`;
        // The `type` field goes no further: the prepare steps read the fields they store by name.
        prepared.push(
          event.type === 'impression'
            ? this.prepareImpression(event, path, receivedAt)
            : this.prepareClick(event, path, receivedAt),
        );
        indexes.push(index);
      } catch (err) {
        if (!(err instanceof ValidationError)) throw err;
        results[index] = { index, status: 'rejected', error: { detail: err.message, errors: [...err.errors] } };
      }
    });
    const statuses = await this.appendAll(prepared);
    indexes.forEach((index, k) => {
      results[index] = { index, status: statuses[k]! };
    });
    return results;
  }

  private async appendAll(prepared: readonly PreparedEvent[]): Promise<EventStatus[]> {
    if (prepared.length === 0) return [];
    const { duplicates } = await this.deps.events.append(prepared.map((p) => p.row));
    const dup = new Set(duplicates);
    const statuses = prepared.map((_, i): EventStatus => (dup.has(i) ? 'duplicate' : 'accepted'));
    const fresh = dup.size === 0 ? prepared : prepared.filter((_, i) => !dup.has(i));
    const flaggedClicks = fresh.length > 0 ? await this.inspectForFraud(fresh) : NONE;
    // A flagged click stays in the lake (with its flag) but does not feed the model's counters.
    const counters: CounterEvent[] = [];
    for (const p of fresh) {
      if (p.counter && !(p.counter.kind === 'click' && flaggedClicks.has(p.fraud.id))) counters.push(p.counter);
    }
    // Counters are a cache of what the log holds: a failure here must not un-acknowledge a
    // durable event, so it is logged and the request still succeeds.
    if (counters.length > 0) {
      try {
        await this.deps.features.record(counters);
      } catch (err) {
        this.deps.logger.warn('feature counter update failed', { error: String(err) });
      }
    }
    return statuses;
  }

  /**
   * Runs the fraud rules over fresh events and appends the flags (which may also name earlier
   * events); returns the ids of flagged clicks. The events are durable already, so a failure here
   * is logged and does not un-acknowledge them: a retry would be a duplicate, never inspected again.
   */
  private async inspectForFraud(fresh: readonly PreparedEvent[]): Promise<ReadonlySet<string>> {
    let flags: FraudFlag[];
    try {
      flags = await this.deps.fraud.inspect(fresh.map((p) => p.fraud));
    } catch (err) {
      this.deps.logger.warn('fraud detection failed', { error: String(err) });
      return NONE;
    }
    if (flags.length === 0) return NONE;
    try {
      await this.deps.events.append(flags.map(suspiciousEventRow));
    } catch (err) {
      this.deps.logger.error('suspicious events could not be appended', { error: String(err), flags: flags.length });
    }
    const clicks = new Set<string>();
    for (const f of flags) if (f.eventType === 'click') clicks.add(f.eventId);
    return clicks;
  }

  private prepareImpression(e: ImpressionEvent, timePath: string, receivedAt: Date): PreparedEvent {
    const { pseudonymiser, config } = this.deps;
    const at = checkedEventTime(e.timestamp, timePath, receivedAt, config);
    const user = pseudonymiser.pseudonymise('user', e.user_id);
    const ip = e.ip === undefined ? null : pseudonymiser.pseudonymise('ip', e.ip);
    return {
      row: {
        table: 'ad_impressions',
        row: {
          impression_id: e.impression_id,
          prediction_id: e.prediction_id ?? null,
          user_id: user,
          ad_id: e.ad_id,
          timestamp: at,
          device_type: e.device_type ?? null,
          location: e.location ?? null,
          ip,
          features: e.features === undefined ? null : JSON.stringify(e.features),
          received_at: receivedAt,
        },
      },
      counter: { kind: 'impression', userKey: user, adId: e.ad_id, impressionId: e.impression_id, at },
      fraud: {
        kind: 'impression',
        id: e.impression_id,
        userId: user,
        ip,
        siteId: siteIdOf(e.features),
        atMs: at.getTime(),
      },
    };
  }

  private prepareClick(e: ClickEvent, timePath: string, receivedAt: Date): PreparedEvent {
    const { pseudonymiser, config } = this.deps;
    const at = checkedEventTime(e.timestamp, timePath, receivedAt, config);
    const user = e.user_id === undefined ? null : pseudonymiser.pseudonymise('user', e.user_id);
    const ip = e.ip === undefined ? null : pseudonymiser.pseudonymise('ip', e.ip);
    return {
      row: {
        table: 'clicks',
        row: {
          click_id: e.click_id,
          impression_id: e.impression_id,
          user_id: user,
          ip,
          clicked: e.clicked,
          timestamp: at,
          received_at: receivedAt,
        },
      },
      counter: e.clicked ? { kind: 'click', impressionId: e.impression_id, userKey: user, at } : null,
      fraud: {
        kind: 'click',
        id: e.click_id,
        impressionId: e.impression_id,
        userId: user,
        ip,
        clicked: e.clicked,
        atMs: at.getTime(),
      },
    };
  }
}
