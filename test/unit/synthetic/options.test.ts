import { describe, expect, it } from 'vitest';
import { resolveSyntheticOptions } from '../../../sagemaker/synthetic/options.js';

describe('resolveSyntheticOptions', () => {
  it('defaults to 200 000 train and 50 000 test rows with populations scaled to them', () => {
    // Prepare
    const options = {};

    // Act
    const resolved = resolveSyntheticOptions(options);

    // Assess
    expect(resolved).toMatchObject({ seed: 1, trainRows: 200_000, testRows: 50_000, ctr: 0.02, interactions: 1 });
    expect(resolved.users).toBe(62_500);
    expect(resolved.ads).toBe(1_000);
    expect(resolved.sites).toBe(100);
  });

  it('grows the user population with the rows but keeps ads and sites within their bounds', () => {
    // Prepare
    const big = { trainRows: 8_000_000, testRows: 2_000_000 };

    // Act
    const resolved = resolveSyntheticOptions(big);

    // Assess
    expect(resolved.users).toBe(2_500_000);
    expect(resolved.ads).toBe(40_000);
    expect(resolved.sites).toBe(4_000);
  });

  it.each([
    [{ trainRows: 0 }, /trainRows/],
    [{ testRows: 1.5 }, /testRows/],
    [{ seed: -1 }, /seed/],
    [{ ctr: 0 }, /ctr/],
    [{ ctr: 0.5 }, /ctr/],
    [{ days: 0.5 }, /days/],
    [{ coldUsers: 1 }, /coldUsers/],
    [{ coldAds: -0.1 }, /coldAds/],
    [{ users: 0 }, /users/],
    [{ interactions: Number.NaN }, /interactions/],
  ])('refuses %o with a RangeError that names the option', (options, message) => {
    // Prepare
    const resolve = () => resolveSyntheticOptions(options);

    // Act & Assess
    expect(resolve).toThrow(RangeError);
    expect(resolve).toThrow(message);
  });
});
