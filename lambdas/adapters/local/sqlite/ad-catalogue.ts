import { LRUCache } from 'lru-cache';
import type { AdCatalogue } from '../../../core/ports.js';
import type { Ad, AdUpsert } from '../../../core/schemas/ads.js';
import type { Sqlite } from './database.js';

interface Row {
  ad_id: string;
  campaign_id: string;
  advertiser_id: string;
  category: string | null;
  attributes: string | null;
  created_at: string;
  updated_at: string;
}

function fromRow(r: Row): Ad {
  const ad: Ad = {
    ad_id: r.ad_id,
    campaign_id: r.campaign_id,
    advertiser_id: r.advertiser_id,
    created_at: r.created_at,
    updated_at: r.updated_at,
  };
  if (r.category !== null) ad.category = r.category;
  if (r.attributes !== null) ad.attributes = JSON.parse(r.attributes);
  return ad;
}

/** Reads per ad per prediction add up; the catalogue changes rarely. */
const CACHE_TTL_MS = 5_000;
const CACHE_ENTRIES = 100_000;

/**
 * The ad catalogue in SQLite, with a short read cache in front: every prediction reads its ads,
 * so the cache keeps SQLite off the hot path. A write through this process is seen at once;
 * one made by another process (sharing the file) within CACHE_TTL_MS.
 */
export class SqliteAdCatalogue implements AdCatalogue {
  private readonly upsert;
  private readonly byId;
  private readonly cache: LRUCache<string, { ad: Ad | undefined }>;

  constructor(db: Sqlite) {
    // Entries wrap the ad so that a miss (no such ad) is cached too.
    this.cache = new LRUCache({ max: CACHE_ENTRIES, ttl: CACHE_TTL_MS });
    this.upsert = db.prepare(
      `INSERT INTO ads (ad_id, campaign_id, advertiser_id, category, attributes, created_at, updated_at)
       VALUES (@ad_id, @campaign_id, @advertiser_id, @category, @attributes, @now, @now)
       ON CONFLICT (ad_id) DO UPDATE SET campaign_id = excluded.campaign_id, advertiser_id = excluded.advertiser_id,
         category = excluded.category, attributes = excluded.attributes, updated_at = excluded.updated_at`,
    );
    this.byId = db.prepare<[string], Row>('SELECT * FROM ads WHERE ad_id = ?');
  }

  async put(adId: string, ad: AdUpsert, now: Date): Promise<Ad> {
    this.upsert.run({
      ad_id: adId,
      campaign_id: ad.campaign_id,
      advertiser_id: ad.advertiser_id,
      category: ad.category ?? null,
      attributes: ad.attributes === undefined ? null : JSON.stringify(ad.attributes),
      now: now.toISOString(),
    });
    this.cache.delete(adId);
    return fromRow(this.byId.get(adId)!);
  }

  private read(adId: string): Ad | undefined {
    const hit = this.cache.get(adId);
    if (hit) return hit.ad;
    const row = this.byId.get(adId);
    const ad = row ? fromRow(row) : undefined;
    this.cache.set(adId, { ad });
    return ad;
  }

  async get(adId: string): Promise<Ad | undefined> {
    return this.read(adId);
  }

  async getMany(adIds: readonly string[]): Promise<(Ad | undefined)[]> {
    return adIds.map((id) => this.read(id));
  }
}
