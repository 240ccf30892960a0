/** What every AdCatalogue must do, run against SQLite, DynamoDB (dynalite) and the in-memory fake. */
import { beforeEach, describe, expect, it } from 'vitest';
import type { AdCatalogue } from '../../../lambdas/core/ports.js';

const T0 = new Date('2026-12-04T10:00:00.000Z');
const LATER = new Date(T0.getTime() + 60_000);

export function describeAdCatalogueContract(adapter: string, open: () => Promise<AdCatalogue>): void {
  describe(`AdCatalogue contract: ${adapter}`, () => {
    let ads: AdCatalogue;
    beforeEach(async () => {
      ads = await open();
    });

    it('returns the stored ad from put, get and getMany alike', async () => {
      const stored = await ads.put(
        'ad-1',
        { campaign_id: 'c1', advertiser_id: 'adv1', category: 'shoes', attributes: { colour: 'red', size: 42 } },
        T0,
      );

      expect(stored).toEqual({
        ad_id: 'ad-1',
        campaign_id: 'c1',
        advertiser_id: 'adv1',
        category: 'shoes',
        attributes: { colour: 'red', size: 42 },
        created_at: T0.toISOString(),
        updated_at: T0.toISOString(),
      });
      expect(await ads.get('ad-1')).toEqual(stored);
      expect(await ads.getMany(['ad-1'])).toEqual([stored]);
    });

    it('keeps created_at on an update and drops the optional fields the update leaves out', async () => {
      await ads.put('ad-1', { campaign_id: 'c1', advertiser_id: 'adv1', category: 'shoes', attributes: { a: 1 } }, T0);

      const updated = await ads.put('ad-1', { campaign_id: 'c2', advertiser_id: 'adv1' }, LATER);

      const expected = {
        ad_id: 'ad-1',
        campaign_id: 'c2',
        advertiser_id: 'adv1',
        created_at: T0.toISOString(),
        updated_at: LATER.toISOString(),
      };
      expect(updated).toEqual(expected);
      expect(await ads.get('ad-1')).toEqual(expected);
    });

    it('answers getMany in input order with undefined for unknown ads, over more than 100 ids', async () => {
      await ads.put('ad-7', { campaign_id: 'c', advertiser_id: 'a' }, T0);
      const ids = Array.from({ length: 150 }, (_, i) => `ad-${i}`);

      const found = await ads.getMany(ids);

      expect(found).toHaveLength(150);
      expect(found.flatMap((a, i) => (a ? [i] : []))).toEqual([7]);
      expect(await ads.get('ad-8')).toBeUndefined();
    });
  });
}
