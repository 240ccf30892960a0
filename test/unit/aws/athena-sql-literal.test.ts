import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { executionParameters, sqlLiteral } from '../../../lambdas/adapters/aws/athena/sql-literal.js';
import type { SqlParam } from '../../../lambdas/adapters/shared/sql-values.js';

/**
 * Reads one Trino literal of the kinds sqlLiteral writes, and refuses anything after it: a value
 * whose encoding parses back to itself with nothing left over cannot have added SQL.
 */
function parseLiteral(text: string): SqlParam {
  if (text === 'NULL') return null;
  if (text === 'TRUE') return true;
  if (text === 'FALSE') return false;
  if (/^-?\d+$/.test(text) || /^-?\d(\.\d+)?E[+-]\d+$/.test(text)) return Number(text);
  if (!text.startsWith("'")) throw new Error(`not a literal: ${text}`);
  let value = '';
  for (let i = 1; i < text.length; i++) {
    const ch = text[i]!;
    if (ch !== "'") {
      value += ch;
    } else if (text[i + 1] === "'") {
      value += "'";
      i++;
    } else if (i === text.length - 1) {
      return value;
    } else {
      throw new Error(`text after the literal's end: ${text.slice(i + 1)}`);
    }
  }
  throw new Error('unterminated string literal');
}

describe('Athena execution parameter literals', () => {
  it.each([
    ['plain text', 'ad-1', "'ad-1'"],
    ['a quote', "o'brien", "'o''brien'"],
    ['a quote that would end the literal', "x' OR '1'='1", "'x'' OR ''1''=''1'"],
    ['quotes only', "''", "''''''"],
    ['a backslash before a quote (no backslash escapes in Trino)', "\\'", "'\\'''"],
    ['a newline and a comment marker', 'a\n-- b', "'a\n-- b'"],
    ['a placeholder mark', '?', "'?'"],
    ['unicode, astral planes included', 'päß 🚀 ü', "'päß 🚀 ü'"],
    ['the empty string', '', "''"],
  ])('writes %s as one string literal', (_, value, expected) => {
    // Act
    const literal = sqlLiteral(value);

    // Assess
    expect(literal).toBe(expected);
  });

  it.each([
    [3600, '3600'],
    [0, '0'],
    [-7, '-7'],
    [0.5, '5E-1'],
    [1e-15, '1E-15'],
    [2 ** 60, '1.152921504606847E+18'],
    [true, 'TRUE'],
    [false, 'FALSE'],
    [null, 'NULL'],
  ] as const)('writes %s as %s', (value, expected) => {
    // Act
    const literal = sqlLiteral(value);

    // Assess
    expect(literal).toBe(expected);
  });

  it('reads back every string as itself, with nothing after the literal', () => {
    // Prepare: dense in the characters that matter to SQL, plus any Unicode.
    const tricky = fc.string({ unit: fc.constantFrom("'", '\\', '\n', '\r', '?', '-', ';', '"', '\u0000', 'a') });
    const anyText = fc.oneof(tricky, fc.string({ unit: 'binary' }));

    // Act / Assess
    fc.assert(
      fc.property(anyText, (value) => {
        expect(parseLiteral(sqlLiteral(value))).toBe(value);
      }),
    );
  });

  it('reads back every finite number as the same double', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (value) => {
        expect(parseLiteral(sqlLiteral(value))).toBe(value === 0 ? 0 : value);
      }),
    );
  });

  it('refuses NaN and infinities, which have no literal', () => {
    // Act / Assess
    expect(() => sqlLiteral(Number.NaN)).toThrow(TypeError);
    expect(() => sqlLiteral(Number.POSITIVE_INFINITY)).toThrow(TypeError);
  });

  it('gives one literal per parameter, in order', () => {
    // Act
    const params = executionParameters(['day', null, 1001]);

    // Assess
    expect(params).toEqual(["'day'", 'NULL', '1001']);
  });
});
