/**
 * The numbers of the csv contract: a cell is a number when it is a finite decimal literal,
 * optionally signed, with optional fraction and exponent, and optional surrounding spaces or tabs
 * (what pandas' to_numeric accepts). `0x10`, `1_000`, `inf` and `nan` are not numbers; neither is
 * `1e400`, which is not finite.
 *
 * The scanner works on a range of a larger string, so a cell is checked and converted without
 * being sliced out first; the common case, a short integer, is converted digit by digit.
 */

const SPACE = 0x20;
const TAB = 0x09;
const PLUS = 0x2b;
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const LOWER_E = 0x65;
const UPPER_E = 0x45;

/** Below 10^15 every integer is exact, so the digit loop needs no care about rounding. */
const MAX_FAST_DIGITS = 15;

function isDigit(c: number): boolean {
  return c >= ZERO && c <= NINE;
}

/** The number in s[start, end), or NaN when that range is not a finite decimal number. */
export function parseNumber(s: string, start: number, end: number): number {
  let a = start;
  let b = end;
  while (a < b && (s.charCodeAt(a) === SPACE || s.charCodeAt(a) === TAB)) a++;
  while (b > a && (s.charCodeAt(b - 1) === SPACE || s.charCodeAt(b - 1) === TAB)) b--;
  if (a === b) return Number.NaN;

  let i = a;
  let c = s.charCodeAt(i);
  const negative = c === MINUS;
  if (negative || c === PLUS) i++;
  const digitsStart = i;
  let value = 0;
  for (; i < b; i++) {
    c = s.charCodeAt(i);
    if (!isDigit(c)) break;
    value = value * 10 + (c - ZERO);
  }
  const integerDigits = i - digitsStart;
  if (i === b) {
    if (integerDigits === 0) return Number.NaN;
    if (integerDigits <= MAX_FAST_DIGITS) return negative ? -value : value;
    return Number(s.slice(a, b));
  }

  // Not a plain integer: check the rest of the grammar, then let Number() round it correctly.
  let fractionDigits = 0;
  if (c === DOT) {
    i++;
    while (i < b && isDigit(s.charCodeAt(i))) {
      i++;
      fractionDigits++;
    }
  }
  if (integerDigits === 0 && fractionDigits === 0) return Number.NaN;
  if (i < b) {
    c = s.charCodeAt(i);
    if (c !== LOWER_E && c !== UPPER_E) return Number.NaN;
    i++;
    if (i < b && (s.charCodeAt(i) === PLUS || s.charCodeAt(i) === MINUS)) i++;
    const exponentStart = i;
    while (i < b && isDigit(s.charCodeAt(i))) i++;
    if (i === exponentStart || i !== b) return Number.NaN;
  }
  const x = Number(s.slice(a, b));
  return Number.isFinite(x) ? x : Number.NaN;
}

/** Whether a whole string is a number by the contract above. */
export function isNumber(s: string): boolean {
  return !Number.isNaN(parseNumber(s, 0, s.length));
}
