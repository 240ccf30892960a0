/**
 * The DynamoDB features table: the durable per-user and per-ad counters behind the Redis feature
 * store, and what the Kinesis consumer (lambdas/handlers/feature-counters.ts) needs to count every
 * event exactly once into them.
 *
 * Items (partition key `pk`, see DYNAMO_TABLES.features):
 * - `user#<pseudonym>`, `ad#<id>`: `impressions`, `clicks` (all-time numbers), the hourly buckets
 *   of the 1 h and 24 h windows `i:<hour>` and `c:<hour>` (hours since the epoch, UTC; see
 *   core/features/counter-windows.ts) and, per Kinesis shard that ever counted into the item,
 *   `seq#<stream>/<shard>`: the highest sequence number counted, zero-padded so that string order
 *   is numeric order. Buckets live in the counter item so that the one conditional write that adds
 *   the counts and moves the sequence guard adds them too: they are counted exactly once alike.
 * - `event#<table>#<id>`: one marker per event id, `claim` = the `<stream>/<shard>/<seq>` of the
 *   record that counts it, `credit` = the user and ad it counts for, `at` = event time (ms), and
 *   `expires_at` (TTL, 7 days).
 */
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { oldestLiveHour } from '../../../core/features/counter-windows.js';
import type { Counter, CounterDelta, CounterKey } from '../redis/counters.js';
import { addToHour, bucketField, mergeDeltas, parseBuckets } from '../redis/counters.js';
import type { FeatureBackingStore } from '../redis/feature-backing-store.js';
import {
  batchGetByKey,
  DEFAULT_RETRY,
  type Item,
  isConditionalCheckFailed,
  mapBounded,
  type RetryPolicy,
} from './retry.js';
import { DYNAMO_TABLES } from './tables.js';

const PK = DYNAMO_TABLES.features.partitionKey;
const TTL_ATTRIBUTE = DYNAMO_TABLES.features.ttlAttribute;

/** Kinesis sequence numbers have at most 129 digits; padded to this length they sort as numbers. */
export const SEQUENCE_NUMBER_WIDTH = 130;

export function padSequenceNumber(sequenceNumber: string): string {
  return sequenceNumber.padStart(SEQUENCE_NUMBER_WIDTH, '0');
}

export function counterPk(key: CounterKey): string {
  return `${key.entity}#${key.id}`;
}

export function markerPk(table: 'ad_impressions' | 'clicks', id: string): string {
  return `event#${table}#${id}`;
}

/** Whom an event counts for: an impression its user and ad; a click its impression's (or its own user). */
export interface Credit {
  readonly user: string | null;
  readonly ad: string | null;
}

export interface FeatureTableOptions {
  readonly tableName: string;
  /** Backoff for unprocessed BatchGetItem keys. */
  readonly retry?: RetryPolicy;
  /** UpdateItem requests in flight at once. Default 8. */
  readonly maxConcurrentWrites?: number;
  /** Epoch ms: which events are too old for a window, and which buckets are dropped. */
  readonly now?: () => number;
}

function counterOf(item: Item | undefined): Counter | undefined {
  if (item === undefined) return undefined;
  const hours = parseBuckets(item);
  return {
    impressions: Number(item.impressions ?? 0),
    clicks: Number(item.clicks ?? 0),
    ...(hours.size > 0 ? { hours } : {}),
  };
}

/**
 * Hours before the oldest live one whose buckets every counter write removes, whether they exist
 * or not (an UpdateItem cannot name attributes by pattern): an item written at least once a day
 * never keeps a dead bucket. One idle for longer gets one more write that removes what is left.
 */
const REMOVED_HOURS = 24;

interface CounterUpdate {
  readonly expression: string;
  readonly names: Record<string, string>;
  readonly values: Record<string, unknown>;
}

/**
 * `ADD` of the totals and of the live buckets, then `REMOVE` of the REMOVED_HOURS dead ones
 * before them; `set` (with its names and values) is spliced in for the sequence guard.
 */
function counterUpdate(
  impressions: number,
  clicks: number,
  hours: ReadonlyMap<number, { impressions: number; clicks: number }>,
  oldestHour: number,
  set?: { clause: string; names: Record<string, string>; values: Record<string, unknown> },
): CounterUpdate {
  const names: Record<string, string> = { '#i': 'impressions', '#c': 'clicks', ...set?.names };
  const values: Record<string, unknown> = { ':i': impressions, ':c': clicks, ...set?.values };
  const adds = ['#i :i', '#c :c'];
  let n = 0;
  for (const [hour, b] of hours) {
    if (hour < oldestHour) continue;
    for (const [kind, count] of [
      ['i', b.impressions],
      ['c', b.clicks],
    ] as const) {
      if (count === 0) continue;
      names[`#b${n}`] = bucketField(kind, hour);
      values[`:b${n}`] = count;
      adds.push(`#b${n} :b${n}`);
      n++;
    }
  }
  const removes: string[] = [];
  for (let hour = oldestHour - REMOVED_HOURS; hour < oldestHour; hour++) {
    for (const kind of ['i', 'c'] as const) {
      names[`#r${removes.length}`] = bucketField(kind, hour);
      removes.push(`#r${removes.length}`);
    }
  }
  const expression = `ADD ${adds.join(', ')}${set ? ` SET ${set.clause}` : ''} REMOVE ${removes.join(', ')}`;
  return { expression, names, values };
}

/**
 * The FeatureBackingStore of the Redis feature store: `getMany` reads with BatchGetItem (100 keys
 * a request, unprocessed keys retried with the shared backoff), eventually consistent (a cache fill
 * a moment stale is refreshed by the consumer's next write); `add` is one UpdateItem ADD per
 * distinct key, atomic per key. `add` is not idempotent: in AWS the consumer counts (see
 * FeatureCounterTable), and the API's store is built with `countEvents: false`.
 */
export class DynamoFeatureBackingStore implements FeatureBackingStore {
  protected readonly tableName: string;
  protected readonly retry: RetryPolicy;
  protected readonly concurrency: number;
  protected readonly now: () => number;

  constructor(
    protected readonly doc: DynamoDBDocumentClient,
    options: FeatureTableOptions,
  ) {
    this.tableName = options.tableName;
    this.retry = options.retry ?? DEFAULT_RETRY;
    this.concurrency = Math.max(1, options.maxConcurrentWrites ?? 8);
    this.now = options.now ?? Date.now;
  }

  async getMany(keys: readonly CounterKey[]): Promise<(Counter | undefined)[]> {
    if (keys.length === 0) return [];
    const pks = keys.map(counterPk);
    const found = await batchGetByKey(this.doc, this.tableName, PK, [...new Set(pks)], {
      consistentRead: false,
      policy: this.retry,
    });
    return pks.map((pk) => counterOf(found.get(pk)));
  }

  async add(deltas: readonly CounterDelta[]): Promise<void> {
    const merged = mergeDeltas(deltas).filter((d) => d.impressions !== 0 || d.clicks !== 0);
    const oldest = oldestLiveHour(this.now());
    await mapBounded(merged, this.concurrency, async (d) => {
      const update = counterUpdate(d.impressions, d.clicks, d.hours, oldest);
      await this.updateCounter(d, update, oldest);
    });
  }

  /**
   * Sends a counter update and returns the item after it; removes the dead buckets the update
   * could not name (an item idle for more than REMOVED_HOURS) with one more write. That write
   * touches only buckets no window reads, so it needs no guard.
   */
  protected async updateCounter(
    key: CounterKey,
    update: CounterUpdate,
    oldestHour: number,
    condition?: string,
  ): Promise<Item> {
    const out = await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { [PK]: counterPk(key) },
        UpdateExpression: update.expression,
        ...(condition === undefined ? {} : { ConditionExpression: condition }),
        ExpressionAttributeNames: update.names,
        ExpressionAttributeValues: update.values,
        ReturnValues: 'ALL_NEW',
      }),
    );
    const item = out.Attributes ?? {};
    const dead = [...parseBuckets(item).keys()].filter((h) => h < oldestHour);
    if (dead.length > 0) {
      const names: Record<string, string> = {};
      dead.forEach((h, k) => {
        names[`#i${k}`] = bucketField('i', h);
        names[`#c${k}`] = bucketField('c', h);
      });
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [PK]: counterPk(key) },
          UpdateExpression: `REMOVE ${Object.keys(names).join(', ')}`,
          ExpressionAttributeNames: names,
        }),
      );
      for (const name of Object.values(names)) delete item[name];
    }
    return item;
  }
}

/** One counted event's share of a counter, with the record it came from. */
export interface SequencedDelta {
  /** Padded (padSequenceNumber). */
  readonly seq: string;
  readonly impressions: number;
  readonly clicks: number;
  /** The event's hour (hourOf its event time): its bucket, unless too old for a window by now. */
  readonly hour?: number | null;
}

/** What a claim found: the event is this record's to count (with its credit), or a duplicate. */
export type ClaimResult = { readonly status: 'claimed'; readonly credit: Credit } | { readonly status: 'duplicate' };

export interface ClaimRequest {
  readonly table: 'ad_impressions' | 'clicks';
  readonly id: string;
  /** `<stream>/<shard>/<seq>` of the record carrying the event. */
  readonly claim: string;
  /** Kept only by the first claim: a retry counts for whom the first attempt decided. */
  readonly credit: Credit;
  readonly atMs: number;
}

/** The consumer's exactly-once operations on the same table (see the file comment). */
export class FeatureCounterTable extends DynamoFeatureBackingStore {
  private readonly markerTtlSeconds: number;

  constructor(doc: DynamoDBDocumentClient, options: FeatureTableOptions & { readonly markerTtlDays?: number }) {
    super(doc, options);
    this.markerTtlSeconds = Math.round((options.markerTtlDays ?? 7) * 86_400);
  }

  /**
   * Claims an event id for one record: the first record to claim it counts it; a record carrying
   * the same id later (a duplicate event, under another sequence number) is told `duplicate`; the
   * same record again (Lambda's retry) is told `claimed` with the credit stored the first time, so
   * a click counts for the same user and ad however late its impression arrives meanwhile.
   */
  async claim(request: ClaimRequest): Promise<ClaimResult> {
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [PK]: markerPk(request.table, request.id) },
          UpdateExpression:
            'SET #claim = :me, #credit = if_not_exists(#credit, :credit), #at = if_not_exists(#at, :at), #exp = if_not_exists(#exp, :exp)',
          ConditionExpression: 'attribute_not_exists(#pk) OR #claim = :me',
          ExpressionAttributeNames: {
            '#pk': PK,
            '#claim': 'claim',
            '#credit': 'credit',
            '#at': 'at',
            '#exp': TTL_ATTRIBUTE,
          },
          ExpressionAttributeValues: {
            ':me': request.claim,
            ':credit': { user: request.credit.user, ad: request.credit.ad },
            ':at': request.atMs,
            ':exp': Math.floor(this.now() / 1_000) + this.markerTtlSeconds,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      const stored = (out.Attributes?.credit ?? {}) as { user?: string | null; ad?: string | null };
      return { status: 'claimed', credit: { user: stored.user ?? null, ad: stored.ad ?? null } };
    } catch (err) {
      if (isConditionalCheckFailed(err)) return { status: 'duplicate' };
      throw err;
    }
  }

  /** The user, ad and event time of impressions claimed so far (consistent read), by impression id. */
  async impressions(ids: readonly string[]): Promise<Map<string, { user: string; ad: string; atMs: number }>> {
    const result = new Map<string, { user: string; ad: string; atMs: number }>();
    if (ids.length === 0) return result;
    const unique = [...new Set(ids)];
    const found = await batchGetByKey(
      this.doc,
      this.tableName,
      PK,
      unique.map((id) => markerPk('ad_impressions', id)),
      { consistentRead: true, policy: this.retry },
    );
    for (const id of unique) {
      const item = found.get(markerPk('ad_impressions', id));
      const credit = item?.credit as { user?: unknown; ad?: unknown } | undefined;
      if (typeof credit?.user === 'string' && typeof credit.ad === 'string') {
        result.set(id, { user: credit.user, ad: credit.ad, atMs: Number(item!.at) });
      }
    }
    return result;
  }

  /**
   * Adds one shard's deltas to a counter (totals and hourly buckets, in one write) unless already
   * added, and returns the new totals and buckets.
   * Sequence numbers only grow within a shard and a batch adds all of its deltas to an item in one
   * write, so "every delta up to the item's stored sequence number is in": the first write
   * assumes none of these is (the stored number is below the lowest); if a retry proves otherwise,
   * the item is read and only the newer deltas are added, on condition the stored number has not
   * moved meanwhile. Throws ConditionalCheckFailedException if it has (another writer on the same
   * shard, which one consumer per shard rules out), or any DynamoDB error.
   */
  async addOnce(key: CounterKey, shard: string, deltas: readonly SequencedDelta[]): Promise<Counter> {
    if (deltas.length === 0) throw new Error('addOnce needs at least one delta');
    const seqAttribute = `seq#${shard}`;
    let lowest = deltas[0]!.seq;
    for (const d of deltas) if (d.seq < lowest) lowest = d.seq;
    try {
      return await this.addGuarded(key, seqAttribute, deltas, {
        condition: 'attribute_not_exists(#s) OR #s < :guard',
        guard: lowest,
      });
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
    }
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { [PK]: counterPk(key) }, ConsistentRead: true }),
    );
    const stored = Item?.[seqAttribute] as string | undefined;
    if (stored === undefined) throw new Error(`${counterPk(key)} lost ${seqAttribute}: a concurrent writer?`);
    const fresh = deltas.filter((d) => d.seq > stored);
    if (fresh.length === 0) return counterOf(Item)!;
    return this.addGuarded(key, seqAttribute, fresh, { condition: '#s = :guard', guard: stored });
  }

  private async addGuarded(
    key: CounterKey,
    seqAttribute: string,
    deltas: readonly SequencedDelta[],
    guard: { condition: string; guard: string },
  ): Promise<Counter> {
    let impressions = 0;
    let clicks = 0;
    let highest = deltas[0]!.seq;
    const hours = new Map<number, { impressions: number; clicks: number }>();
    for (const d of deltas) {
      impressions += d.impressions;
      clicks += d.clicks;
      if (d.hour !== undefined && d.hour !== null) addToHour(hours, d.hour, d.impressions, d.clicks);
      if (d.seq > highest) highest = d.seq;
    }
    const oldest = oldestLiveHour(this.now());
    const update = counterUpdate(impressions, clicks, hours, oldest, {
      clause: '#s = :highest',
      names: { '#s': seqAttribute },
      values: { ':highest': highest, ':guard': guard.guard },
    });
    // ALL_NEW, not UPDATED_NEW: the totals go to Redis, and a hash they create must hold every bucket.
    return counterOf(await this.updateCounter(key, update, oldest, guard.condition))!;
  }
}
