import { describe, expect, it } from 'vitest';
import { buildWorld, resolveSyntheticOptions } from '../../../sagemaker/synthetic/index.js';
import { emptyImpression, type Impression, type World } from '../../../sagemaker/synthetic/world.js';

/**
 * The difference-in-differences of the true logit over two users (who differ in segment only)
 * and two ads (which differ in category only): zero exactly when segment and category add up.
 */
function segmentByCategory(world: World): number {
  const u = world.users;
  // Users 0 and 1 become twins but for their segment.
  for (const column of [u.gender, u.age, u.observed, u.device, u.location]) column[1] = column[0]!;
  u.propensity[1] = u.propensity[0]!;
  u.activity[1] = u.activity[0]!;
  u.latent.copyWithin(4, 0, 4);
  u.segment[0] = 0;
  u.segment[1] = 1;
  // Two ads of other categories with the same latent vector.
  const a = world.ads.findIndex((ad) => ad.category !== world.ads[0]!.category);
  world.ads[a]!.latent.set(world.ads[0]!.latent);
  const at = (user: number, ad: number): number => {
    const m: Impression = { ...emptyImpression(), user, ad };
    return world.logit(m);
  };
  return at(0, 0) - at(0, a) - (at(1, 0) - at(1, a));
}

describe('buildWorld', () => {
  it('makes the true logit additive in segment and category when interactions are off', () => {
    // Prepare
    const world = buildWorld(resolveSyntheticOptions({ seed: 2, trainRows: 2_000, testRows: 500, interactions: 0 }));

    // Act
    const interaction = segmentByCategory(world);

    // Assess
    expect(interaction).toBeCloseTo(0, 12);
  });

  it('gives segment and category an interaction in the true logit by default', () => {
    // Prepare
    const world = buildWorld(resolveSyntheticOptions({ seed: 2, trainRows: 2_000, testRows: 500 }));

    // Act
    const interaction = segmentByCategory(world);

    // Assess
    expect(Math.abs(interaction)).toBeGreaterThan(1e-3);
  });

  it('is a function of its options: the same seed builds the same base, users and ads', () => {
    // Prepare
    const options = resolveSyntheticOptions({ seed: 9, trainRows: 3_000, testRows: 1_000 });

    // Act
    const a = buildWorld(options);
    const b = buildWorld(options);

    // Assess
    expect(b.base).toBe(a.base);
    expect(b.users.segment).toEqual(a.users.segment);
    expect(b.users.activity).toEqual(a.users.activity);
    expect(b.ads).toEqual(a.ads);
  });

  it('launches the new ads at the start of the test period and the others before the data starts', () => {
    // Prepare
    const options = resolveSyntheticOptions({ seed: 9, trainRows: 3_000, testRows: 1_000, days: 10 });

    // Act
    const world = buildWorld(options);

    // Assess
    expect(world.testStartDay).toBe(7.5);
    expect(world.ads.length).toBeGreaterThan(world.establishedAds);
    world.ads.forEach((ad, i) => {
      if (i < world.establishedAds) expect(ad.launchDay).toBeLessThan(0);
      else expect(ad.launchDay).toBe(7.5);
    });
  });
});
