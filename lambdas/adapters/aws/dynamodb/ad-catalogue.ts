import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { LRUCache } from 'lru-cache';
import type { AdCatalogue } from '../../../core/ports.js';
import type { Ad, AdUpsert } from '../../../core/schemas/ads.js';
import type { Features } from '../../../core/schemas/common.js';
import { batchGetByKey, type Item, type RetryPolicy } from './retry.js';
import { DYNAMO_TABLES } from './tables.js';

const KEY = DYNAMO_TABLES.ads.partitionKey;

/** `attributes` is JSON text, as in the local catalogue: free-form, read whole, never queried. */
function fromItem(item: Item): Ad {
  const ad: Ad = {
    ad_id: item[KEY] as string,
    campaign_id: item.campaign_id as string,
    advertiser_id: item.advertiser_id as string,
    created_at: item.created_at as string,
    updated_at: item.updated_at as string,
  };
  if (typeof item.category === 'string') ad.category = item.category;
  if (typeof item.attributes === 'string') ad.attributes = JSON.parse(item.attributes) as Features;
  return ad;
}

export interface DynamoAdCatalogueOptions {
  /** How long a read is reused in this container; 0 turns the cache off. */
  readonly cacheTtlMs?: number;
  readonly cacheEntries?: number;
  readonly retry?: RetryPolicy;
}

/**
 * The ad catalogue on DynamoDB, one item per ad, with the same short read cache as the local
 * catalogue in front (every prediction reads its ads; the catalogue changes rarely). A write
 * through this container is seen at once, one through another container within the TTL.
 */
export class DynamoAdCatalogue implements AdCatalogue {
  private readonly cache: LRUCache<string, { ad: Ad | undefined }> | undefined;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly options: DynamoAdCatalogueOptions = {},
  ) {
    const ttl = options.cacheTtlMs ?? 5_000;
    // Entries wrap the ad so that a miss (no such ad) is cached too.
    this.cache = ttl > 0 ? new LRUCache({ max: options.cacheEntries ?? 100_000, ttl }) : undefined;
  }

  /** One UpdateItem: an upsert that keeps created_at of an existing ad and returns the result. */
  async put(adId: string, ad: AdUpsert, now: Date): Promise<Ad> {
    const set = ['campaign_id = :campaign', 'advertiser_id = :advertiser', 'updated_at = :now'];
    const remove: string[] = [];
    const values: Item = { ':campaign': ad.campaign_id, ':advertiser': ad.advertiser_id, ':now': now.toISOString() };
    set.push('created_at = if_not_exists(created_at, :now)');
    if (ad.category === undefined) remove.push('category');
    else {
      set.push('category = :category');
      values[':category'] = ad.category;
    }
    if (ad.attributes === undefined) remove.push('attributes');
    else {
      set.push('attributes = :attributes');
      values[':attributes'] = JSON.stringify(ad.attributes);
    }
    const out = await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { [KEY]: adId },
        UpdateExpression: `SET ${set.join(', ')}${remove.length ? ` REMOVE ${remove.join(', ')}` : ''}`,
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
      }),
    );
    const stored = fromItem(out.Attributes!);
    this.cache?.set(adId, { ad: stored });
    return structuredClone(stored);
  }

  async get(adId: string): Promise<Ad | undefined> {
    const hit = this.cache?.get(adId);
    if (hit) return structuredClone(hit.ad);
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { [KEY]: adId } }));
    const ad = out.Item ? fromItem(out.Item) : undefined;
    this.cache?.set(adId, { ad });
    return structuredClone(ad);
  }

  /** Ads from the cache, the rest in BatchGetItem calls (eventually consistent: a catalogue). */
  async getMany(adIds: readonly string[]): Promise<(Ad | undefined)[]> {
    const known = new Map<string, Ad | undefined>();
    const missing: string[] = [];
    for (const id of new Set(adIds)) {
      const hit = this.cache?.get(id);
      if (hit) known.set(id, hit.ad);
      else missing.push(id);
    }
    if (missing.length > 0) {
      const found = await batchGetByKey(this.doc, this.tableName, KEY, missing, {
        consistentRead: false,
        ...(this.options.retry ? { policy: this.options.retry } : {}),
      });
      for (const id of missing) {
        const item = found.get(id);
        const ad = item ? fromItem(item) : undefined;
        known.set(id, ad);
        this.cache?.set(id, { ad });
      }
    }
    return adIds.map((id) => structuredClone(known.get(id)));
  }
}
