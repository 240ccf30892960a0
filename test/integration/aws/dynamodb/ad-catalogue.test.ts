import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoAdCatalogue } from '../../../../lambdas/adapters/aws/dynamodb/ad-catalogue.js';
import type { DynamoTableNames } from '../../../../lambdas/adapters/aws/dynamodb/tables.js';
import { type Dynalite, startDynalite } from '../../../support/dynalite.js';
import { T0 } from '../../../support/memory-ports.js';

const LATER = new Date(T0.getTime() + 60_000);

describe('the DynamoDB ad catalogue', () => {
  let db: Dynalite;
  let tables: DynamoTableNames;

  beforeAll(async () => {
    db = await startDynalite();
  });

  afterAll(async () => {
    await db.stop();
  });

  beforeEach(async () => {
    tables = await db.freshTables();
  });

  it('stores an ad and reads it back by get and getMany', async () => {
    // Prepare
    const ads = new DynamoAdCatalogue(db.doc, tables.ads, { cacheTtlMs: 0 });

    // Act
    const stored = await ads.put(
      'ad-1',
      { campaign_id: 'c1', advertiser_id: 'adv1', category: 'shoes', attributes: { colour: 'red', size: 42 } },
      T0,
    );

    // Assess
    const expected = {
      ad_id: 'ad-1',
      campaign_id: 'c1',
      advertiser_id: 'adv1',
      category: 'shoes',
      attributes: { colour: 'red', size: 42 },
      created_at: T0.toISOString(),
      updated_at: T0.toISOString(),
    };
    expect(stored).toEqual(expected);
    expect(await ads.get('ad-1')).toEqual(expected);
    expect(await ads.getMany(['ad-1'])).toEqual([expected]);
  });

  it('keeps created_at on an update and drops the optional fields the update leaves out', async () => {
    // Prepare
    const ads = new DynamoAdCatalogue(db.doc, tables.ads, { cacheTtlMs: 0 });
    await ads.put('ad-1', { campaign_id: 'c1', advertiser_id: 'adv1', category: 'shoes', attributes: { a: 1 } }, T0);

    // Act
    const updated = await ads.put('ad-1', { campaign_id: 'c2', advertiser_id: 'adv1' }, LATER);

    // Assess
    expect(updated).toEqual({
      ad_id: 'ad-1',
      campaign_id: 'c2',
      advertiser_id: 'adv1',
      created_at: T0.toISOString(),
      updated_at: LATER.toISOString(),
    });
    expect(await ads.get('ad-1')).toEqual(updated);
  });

  it('returns getMany in input order with undefined for unknown ads, over more than 100 ids', async () => {
    // Prepare
    const ads = new DynamoAdCatalogue(db.doc, tables.ads, { cacheTtlMs: 0 });
    const ids = Array.from({ length: 150 }, (_, i) => `ad-${i}`);
    for (const id of ids.filter((_, i) => i % 2 === 0)) {
      await ads.put(id, { campaign_id: 'c', advertiser_id: 'a' }, T0);
    }
    const asked = ['missing', ...ids.reverse(), 'ad-0'];

    // Act
    const found = await ads.getMany(asked);

    // Assess
    expect(found.map((a) => a?.ad_id)).toEqual(
      asked.map((id) => (id !== 'missing' && Number(id.slice(3)) % 2 === 0 ? id : undefined)),
    );
  });

  it('serves a cached read until the TTL, and its own writes at once', async () => {
    // Prepare: two containers over one table, each with its own cache
    const a = new DynamoAdCatalogue(db.doc, tables.ads, { cacheTtlMs: 60_000 });
    const b = new DynamoAdCatalogue(db.doc, tables.ads, { cacheTtlMs: 60_000 });
    await a.put('ad-1', { campaign_id: 'c1', advertiser_id: 'adv1' }, T0);
    expect((await b.getMany(['ad-1', 'ad-2'])).map((x) => x?.campaign_id)).toEqual(['c1', undefined]);

    // Act
    await a.put('ad-1', { campaign_id: 'c2', advertiser_id: 'adv1' }, LATER);
    await a.put('ad-2', { campaign_id: 'c3', advertiser_id: 'adv1' }, LATER);

    // Assess: the writer sees its writes, the other container its cache (misses included)
    expect((await a.getMany(['ad-1', 'ad-2'])).map((x) => x?.campaign_id)).toEqual(['c2', 'c3']);
    expect((await b.getMany(['ad-1', 'ad-2'])).map((x) => x?.campaign_id)).toEqual(['c1', undefined]);
  });
});
