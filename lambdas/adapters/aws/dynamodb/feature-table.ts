/**
 * The DynamoDB features table: the durable per-user and per-ad counters behind the Redis feature
 * store, and what the Kinesis consumer (lambdas/handlers/feature-counters.ts) needs to count every
 * event exactly once into them.
 *
 * Items (partition key `pk`, see DYNAMO_TABLES.features):
 * - `user#<pseudonym>`, `ad#<id>`: `impressions`, `clicks` (all-time numbers) and, per Kinesis
 *   shard that ever counted into the item, `seq#<stream>/<shard>`: the highest sequence number
 *   counted, zero-padded so that string order is numeric order.
 * - `event#<table>#<id>`: one marker per event id, `claim` = the `<stream>/<shard>/<seq>` of the
 *   record that counts it, `credit` = the user and ad it counts for, `at` = event time (ms), and
 *   `expires_at` (TTL, 7 days).
 */
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Counter, CounterDelta, CounterKey } from '../redis/counters.js';
import { mergeDeltas } from '../redis/counters.js';
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
}

function counterOf(item: Item | undefined): Counter | undefined {
  if (item === undefined) return undefined;
  return { impressions: Number(item.impressions ?? 0), clicks: Number(item.clicks ?? 0) };
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

  constructor(
    protected readonly doc: DynamoDBDocumentClient,
    options: FeatureTableOptions,
  ) {
    this.tableName = options.tableName;
    this.retry = options.retry ?? DEFAULT_RETRY;
    this.concurrency = Math.max(1, options.maxConcurrentWrites ?? 8);
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
    await mapBounded(merged, this.concurrency, (d) =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [PK]: counterPk(d) },
          UpdateExpression: 'ADD #i :i, #c :c',
          ExpressionAttributeNames: { '#i': 'impressions', '#c': 'clicks' },
          ExpressionAttributeValues: { ':i': d.impressions, ':c': d.clicks },
        }),
      ),
    );
  }
}

/** One counted event's share of a counter, with the record it came from. */
export interface SequencedDelta {
  /** Padded (padSequenceNumber). */
  readonly seq: string;
  readonly impressions: number;
  readonly clicks: number;
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
  private readonly now: () => number;

  constructor(
    doc: DynamoDBDocumentClient,
    options: FeatureTableOptions & { readonly markerTtlDays?: number; readonly now?: () => number },
  ) {
    super(doc, options);
    this.markerTtlSeconds = Math.round((options.markerTtlDays ?? 7) * 86_400);
    this.now = options.now ?? Date.now;
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
   * Adds one shard's deltas to a counter unless already added, and returns the new totals.
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
    for (const d of deltas) {
      impressions += d.impressions;
      clicks += d.clicks;
      if (d.seq > highest) highest = d.seq;
    }
    const out = await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { [PK]: counterPk(key) },
        UpdateExpression: 'ADD #i :i, #c :c SET #s = :highest',
        ConditionExpression: guard.condition,
        ExpressionAttributeNames: { '#i': 'impressions', '#c': 'clicks', '#s': seqAttribute },
        ExpressionAttributeValues: { ':i': impressions, ':c': clicks, ':highest': highest, ':guard': guard.guard },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return counterOf(out.Attributes ?? {})!;
  }
}
