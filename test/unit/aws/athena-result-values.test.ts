import { describe, expect, it } from 'vitest';
import { typedRows, typedValue } from '../../../lambdas/adapters/aws/athena/result-values.js';

describe('Athena result values', () => {
  it.each([
    ['bigint', '9007199254740993', 9007199254740992],
    ['integer', '-3', -3],
    ['double', '1.0E-5', 0.00001],
    ['double', 'NaN', Number.NaN],
    ['double', '-Infinity', Number.NEGATIVE_INFINITY],
    ['decimal(10,2)', '12.50', 12.5],
    ['boolean', 'true', true],
    ['boolean', 'false', false],
    ['timestamp', '2026-12-01 10:00:00.000', '2026-12-01T10:00:00.000Z'],
    ['timestamp(6)', '2026-12-01 10:00:00.123456', '2026-12-01T10:00:00.123Z'],
    ['timestamp', '2026-12-01 10:00:00', '2026-12-01T10:00:00.000Z'],
    ['date', '2026-12-01', '2026-12-01T00:00:00.000Z'],
    ['varchar', "it's 1.0", "it's 1.0"],
    ['array(varchar)', '[a, b]', '[a, b]'],
  ])('reads a %s %j as DuckDB gives it', (type, text, expected) => {
    // Act
    const value = typedValue(type, text);

    // Assess
    expect(value).toEqual(expected);
  });

  it('reads a missing value as NULL whatever the type', () => {
    expect(typedValue('bigint', undefined)).toBeNull();
    expect(typedValue('varchar', undefined)).toBeNull();
  });

  it('keys each row by column name, with short rows padded by NULLs', () => {
    // Act
    const rows = typedRows(
      [
        { Name: 'segment', Type: 'varchar' },
        { Name: 'users', Type: 'bigint' },
      ],
      [{ Data: [{}, { VarCharValue: '7' }] }, { Data: [{ VarCharValue: 'mobile' }] }],
    );

    // Assess
    expect(rows).toEqual([
      { segment: null, users: 7 },
      { segment: 'mobile', users: null },
    ]);
  });
});
