import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  auc,
  binaryEntropy,
  calibration,
  evaluate,
  logLoss,
  normalizedEntropy,
  reliabilityDiagram,
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

  it('clips predictions to [1e-15, 1 - 1e-15] before the logarithm, as the peer benchmark does', () => {
    // Act
    const loss = logLoss([0, 1], [1, 0]);

    // Assess: 1 - 1e-15 rounds to 1 - 9.992e-16 in float64, so the two misses differ slightly.
    const missAtZero = -Math.log(1e-15);
    const missAtOne = -Math.log1p(-(1 - 1e-15));
    expect(missAtOne).not.toBe(missAtZero);
    expect(loss).toBe((missAtZero + missAtOne) / 2);
  });

  it('takes ln(1 - p) through log1p, keeping the digits of a small p', () => {
    // Act
    const loss = logLoss([1e-10], [0]);

    // Assess: ln(1 - 1e-10) = -1e-10 - 5e-21 - ...; 1 - 1e-10 itself is off by ~1e-17.
    expect(loss).toBe(1.00000000005e-10);
  });

  it('keeps the mean exact over many rows whatever their order (compensated sum)', () => {
    // Prepare: one large loss and many tiny ones; a naive running sum loses the tiny ones' digits.
    const p = [1e-12, ...Array.from({ length: 100_000 }, () => 1e-9)];
    const y = p.map(() => 0);
    y[0] = 1;

    // Act
    const forward = logLoss(p, y);
    const backward = logLoss([...p].reverse(), [...y].reverse());

    // Assess
    expect(forward).toBe(backward);
    expect(forward).toBeCloseTo((-Math.log(1e-12) + 100_000 * -Math.log1p(-1e-9)) / 100_001, 15);
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

describe('evaluate against hand-computed values', () => {
  it('gives the logloss, AUC, NE and calibration worked out by hand for six rows', () => {
    // Prepare: positives at 0.8, 0.4, 0.4; negatives at 0.4, 0.2, 0.1.
    const p = [0.8, 0.4, 0.2, 0.4, 0.1, 0.4];
    const y = [1, 1, 0, 0, 0, 1];

    // Act
    const e = evaluate(p, y);

    // Assess
    // Ranks ascending: 0.1→1, 0.2→2, the three 0.4s share (3+4+5)/3 = 4, 0.8→6.
    // Positive rank sum 6 + 4 + 4 = 14; AUC = (14 - 3·4/2) / (3·3) = 8/9.
    expect(e.auc).toBe(8 / 9);
    const loss = -(Math.log(0.8) + 2 * Math.log(0.4) + Math.log(0.8) + Math.log(0.6) + Math.log(0.9)) / 6;
    expect(e.logloss).toBeCloseTo(loss, 15);
    expect(e.normalized_entropy).toBeCloseTo(loss / Math.LN2, 14);
    expect(e.mean_prediction).toBeCloseTo(2.3 / 6, 15);
    expect(e.calibration).toBeCloseTo(2.3 / 6 / 0.5, 14);
  });
});

describe('reliabilityDiagram', () => {
  // Ten rows: predictions 0.05 .. 0.95 with labels worked through by hand below.
  const p = [0.05, 0.15, 0.12, 0.35, 0.3, 0.55, 0.6, 0.65, 0.9, 1];
  const y = [0, 0, 1, 0, 1, 1, 0, 1, 1, 1];

  it('groups predictions into equal-width bins, leaves out empty ones and puts p = 1 in the last', () => {
    // Act
    const bins = reliabilityDiagram(p, y, { bins: 4, strategy: 'uniform' });

    // Assess
    // [0, .25): .05 .15 .12 → 1 positive; [.25, .5): .35 .3 → 1; [.5, .75): .55 .6 .65 → 2; [.75, 1]: .9 1 → 2.
    expect(bins.map((b) => [b.lower, b.upper, b.rows, b.positives])).toEqual([
      [0, 0.25, 3, 1],
      [0.25, 0.5, 2, 1],
      [0.5, 0.75, 3, 2],
      [0.75, 1, 2, 2],
    ]);
    expect(bins[0]!.mean_prediction).toBeCloseTo(0.32 / 3, 15);
    expect(bins[0]!.observed_rate).toBe(1 / 3);
    expect(bins[3]!.mean_prediction).toBeCloseTo(0.95, 15);
  });

  it('cuts quantile bins of equal row counts between sorted predictions', () => {
    // Act
    const bins = reliabilityDiagram(p, y, { bins: 5, strategy: 'quantile' });

    // Assess: sorted .05 .12 | .15 .3 | .35 .55 | .6 .65 | .9 1, two rows a bin.
    expect(bins.map((b) => [b.lower, b.upper, b.rows, b.positives])).toEqual([
      [0.05, 0.12, 2, 1],
      [0.15, 0.3, 2, 1],
      [0.35, 0.55, 2, 1],
      [0.6, 0.65, 2, 1],
      [0.9, 1, 2, 2],
    ]);
    expect(bins[2]!.mean_prediction).toBeCloseTo(0.45, 15);
  });

  it('never splits tied predictions across two quantile bins', () => {
    // Act
    const bins = reliabilityDiagram([0.1, 0.2, 0.2, 0.2, 0.3, 0.4], [0, 1, 0, 0, 1, 1], { bins: 3 });

    // Assess: the second bin would end inside the 0.2 ties, so it takes all three of them.
    expect(bins.map((b) => [b.lower, b.upper, b.rows, b.positives])).toEqual([
      [0.1, 0.2, 4, 1],
      [0.3, 0.4, 2, 2],
    ]);
  });

  it('accounts for every row exactly once', () => {
    fc.assert(
      fc.property(rows, fc.integer({ min: 1, max: 12 }), fc.constantFrom('uniform', 'quantile'), (r, k, strategy) => {
        // Act
        const bins = reliabilityDiagram(r.p, r.y, { bins: k, strategy });

        // Assess
        expect(bins.reduce((s, b) => s + b.rows, 0)).toBe(r.p.length);
        expect(bins.reduce((s, b) => s + b.positives, 0)).toBe(r.y.filter((v) => v === 1).length);
        expect(bins.length).toBeLessThanOrEqual(k);
        for (const b of bins) expect(b.mean_prediction).toBeGreaterThanOrEqual(b.lower - 1e-12);
      }),
    );
  });

  it('refuses a bin count that is not a positive integer', () => {
    // Act
    const attempts = [() => reliabilityDiagram(p, y, { bins: 0 }), () => reliabilityDiagram(p, y, { bins: 2.5 })];

    // Assess
    for (const attempt of attempts) expect(attempt).toThrow(RangeError);
  });
});
