import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  auc,
  binaryEntropy,
  calibration,
  evaluate,
  logLoss,
  normalizedEntropy,
} from '../../../sagemaker/model/metrics.js';

/** AUC by brute force over every (positive, negative) pair, ties counting one half. */
function pairwiseAuc(p: number[], y: number[]): number | null {
  let wins = 0;
  let pairs = 0;
  for (let i = 0; i < p.length; i++) {
    if (y[i] !== 1) continue;
    for (let j = 0; j < p.length; j++) {
      if (y[j] !== 0) continue;
      pairs++;
      wins += p[i]! > p[j]! ? 1 : p[i] === p[j] ? 0.5 : 0;
    }
  }
  return pairs === 0 ? null : wins / pairs;
}

const rows = fc
  .array(fc.tuple(fc.constantFrom(0, 0.1, 0.25, 0.5, 0.9, 1), fc.constantFrom(0, 1)), { minLength: 1, maxLength: 60 })
  .map((pairs) => ({ p: pairs.map(([p]) => p), y: pairs.map(([, y]) => y) }));

describe('logLoss', () => {
  it('is ln 2 for coin-flip predictions', () => {
    // Act
    const loss = logLoss([0.5, 0.5], [1, 0]);

    // Assess
    expect(loss).toBeCloseTo(Math.LN2, 15);
  });

  it('clips predictions to [1e-15, 1 - 1e-15] so a confident miss stays finite', () => {
    // Act
    const loss = logLoss([0, 1], [1, 0]);

    // Assess
    expect(loss).toBeCloseTo(-Math.log(1e-15), 6);
  });

  it('accepts boolean labels', () => {
    // Act
    const loss = logLoss([0.8, 0.3], [true, false]);

    // Assess
    expect(loss).toBeCloseTo(-(Math.log(0.8) + Math.log(0.7)) / 2, 15);
  });

  it('refuses mismatched lengths, no rows, labels other than 0/1 and predictions outside [0, 1]', () => {
    // Act
    const attempts = [
      () => logLoss([0.5], [1, 0]),
      () => logLoss([], []),
      () => logLoss([0.5], [2]),
      () => logLoss([1.5], [1]),
      () => logLoss([Number.NaN], [1]),
    ];

    // Assess
    for (const attempt of attempts) expect(attempt).toThrow(RangeError);
  });
});

describe('auc', () => {
  it('is 1 for a perfect ranking, 0 for a reversed one and 0.5 when all predictions tie', () => {
    // Act
    const perfect = auc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1]);
    const reversed = auc([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1]);
    const tied = auc([0.3, 0.3, 0.3, 0.3], [0, 1, 0, 1]);

    // Assess
    expect([perfect, reversed, tied]).toEqual([1, 0, 0.5]);
  });

  it('gives tied predictions their average rank', () => {
    // Act
    const value = auc([0.5, 0.5, 0.2, 0.8], [1, 0, 0, 1]);

    // Assess
    expect(value).toBe(3.5 / 4);
  });

  it('is null when only one class is present', () => {
    // Act
    const values = [auc([0.1, 0.2], [0, 0]), auc([0.1, 0.2], [1, 1])];

    // Assess
    expect(values).toEqual([null, null]);
  });

  it('equals the share of (positive, negative) pairs ranked right, ties counting half', () => {
    fc.assert(
      fc.property(rows, ({ p, y }) => {
        // Act
        const value = auc(p, y);

        // Assess
        const expected = pairwiseAuc(p, y);
        if (expected === null) expect(value).toBeNull();
        else expect(value).toBeCloseTo(expected, 12);
      }),
    );
  });
});

describe('normalizedEntropy', () => {
  it('is 1 for a constant prediction at the observed rate', () => {
    // Act
    const ne = normalizedEntropy([0.25, 0.25, 0.25, 0.25], [1, 0, 0, 0]);

    // Assess
    expect(ne).toBeCloseTo(1, 12);
    expect(binaryEntropy(0.25)).toBeCloseTo(logLoss([0.25, 0.25, 0.25, 0.25], [1, 0, 0, 0]), 15);
  });

  it('is null when the observed rate is 0 or 1', () => {
    // Act
    const values = [normalizedEntropy([0.1], [0]), normalizedEntropy([0.1], [1])];

    // Assess
    expect(values).toEqual([null, null]);
  });
});

describe('calibration', () => {
  it('is the mean prediction over the observed rate', () => {
    // Act
    const value = calibration([0.1, 0.3, 0.2, 0.2], [1, 0, 0, 0]);

    // Assess
    expect(value).toBeCloseTo(0.2 / 0.25, 15);
  });

  it('is null when there are no positives', () => {
    // Act
    const value = calibration([0.1, 0.3], [0, 0]);

    // Assess
    expect(value).toBeNull();
  });
});

describe('evaluate', () => {
  it('reports every metric consistently with the single functions', () => {
    fc.assert(
      fc.property(rows, ({ p, y }) => {
        // Act
        const e = evaluate(p, y);

        // Assess
        expect(e.rows).toBe(p.length);
        expect(e.positives).toBe(y.filter((v) => v === 1).length);
        expect(e.logloss).toBe(logLoss(p, y));
        expect(e.auc).toBe(auc(p, y));
        expect(e.calibration).toBe(calibration(p, y));
        expect(e.normalized_entropy).toBe(normalizedEntropy(p, y));
      }),
    );
  });
});
