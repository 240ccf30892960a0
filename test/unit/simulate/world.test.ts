import { describe, expect, it } from 'vitest';
import { createRandom } from '../../../sagemaker/model/prng.js';
import { createSimulator, DEVICE_TYPES, LOCATIONS } from '../../../sagemaker/simulate.js';
import { buildTrafficWorld } from '../../../sagemaker/traffic/index.js';

describe('buildTrafficWorld', () => {
  it("rebuilds simulate.ts's world: same catalogue, base, requests and true probabilities", () => {
    // Prepare
    const options = { seed: 1 };
    const simulator = createSimulator(options);
    const world = buildTrafficWorld(options);
    const stream = createRandom(1, 1); // simulate.ts's request stream

    // Act
    const pairs = Array.from({ length: 2000 }, () => {
      const expected = simulator.nextRequest();
      const d = world.drawLikeSimulator(stream);
      const user = world.users[d.user]!;
      return {
        expected,
        actual: {
          user_id: user.id,
          ad_id: world.catalogue[d.ad]!.ad_id,
          features: {
            device_type: DEVICE_TYPES[user.device],
            location: LOCATIONS[user.location],
            site_id: world.siteIds[d.site],
            position: d.position,
          },
          trueProbability: world.probability(d.user, d.ad, d.site, d.position),
        },
      };
    });

    // Assess
    expect(world.base).toBe(simulator.base);
    expect(
      world.catalogue.map(({ ad_id, campaign_id, advertiser_id, category }) => ({
        ad_id,
        campaign_id,
        advertiser_id,
        category,
      })),
    ).toEqual(simulator.ads());
    for (const { expected, actual } of pairs) expect(actual).toEqual(expected);
  });

  it('builds a different world for another seed', () => {
    // Act
    const a = buildTrafficWorld({ seed: 1, users: 500, ads: 50 });
    const b = buildTrafficWorld({ seed: 2, users: 500, ads: 50 });

    // Assess
    expect(a.catalogue.map((ad) => ad.effect)).not.toEqual(b.catalogue.map((ad) => ad.effect));
  });
});
