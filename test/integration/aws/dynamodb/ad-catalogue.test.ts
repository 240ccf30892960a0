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
