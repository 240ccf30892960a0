import { describe, expect, it } from 'vitest';
import { isNumber, parseNumber } from '../../../sagemaker/data/number.js';

describe('parseNumber', () => {
  it('reads the decimal forms pandas reads, with surrounding spaces or tabs', () => {
    // Prepare
    const cases: [string, number][] = [
      ['0', 0],
      ['42', 42],
      ['-7', -7],
      ['+5', 5],
      ['1.5', 1.5],
      ['.5', 0.5],
      ['5.', 5],
      ['-.5e-3', -0.0005],
      ['1E3', 1000],
      [' 5', 5],
      ['5\t', 5],
      ['12345678901234567890', 1.2345678901234567e19],
    ];

    // Act
    const parsed = cases.map(([s]) => parseNumber(s, 0, s.length));

    // Assess
    expect(parsed).toEqual(cases.map(([, x]) => x));
  });

  it('refuses what is not a finite decimal number', () => {
    // Prepare
    const refused = [
      '',
      ' ',
      'abc',
      '0x10',
      '1_000',
      'inf',
      'Infinity',
      'nan',
      '1e400',
      '1,5',
      '5e',
      'e5',
      '.',
      '-',
      '1.2.3',
      '١',
    ];

    // Act
    const verdicts = refused.map(isNumber);

    // Assess
    expect(verdicts).toEqual(refused.map(() => false));
  });

  it('reads a range of a larger string without slicing it', () => {
    // Act
    const x = parseNumber('a,123,b', 2, 5);

    // Assess
    expect(x).toBe(123);
  });
});
