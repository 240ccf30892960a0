import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseRfc3339 } from '../../../lambdas/core/schemas/common.js';

const pad = (n: number, w = 2) => String(Math.abs(n)).padStart(w, '0');

describe('parseRfc3339', () => {
  it('agrees with Date for every real instant written in any zone', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('1971-01-01T00:00:00Z'), max: new Date('2099-12-31T23:59:59Z'), noInvalidDate: true }),
        fc.integer({ min: -12 * 60, max: 14 * 60 }),
        (instant, offsetMin) => {
          // Prepare: the same instant as wall-clock time in a zone offsetMin east of UTC
          const local = new Date(instant.getTime() + offsetMin * 60_000);
          const sign = offsetMin < 0 ? '-' : '+';
          const text =
            `${local.getUTCFullYear()}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}` +
            `T${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}` +
            `.${pad(local.getUTCMilliseconds(), 3)}${sign}${pad(Math.trunc(offsetMin / 60))}:${pad(offsetMin % 60)}`;

          // Act
          const parsed = parseRfc3339(text);

          // Assess
          expect(parsed).toBe(instant.getTime());
        },
      ),
    );
  });

  it.each(['2024-02-29T12:00:00Z', '2000-02-29T00:00:00Z'])('accepts the leap day %s', (text) => {
    expect(parseRfc3339(text)).toBe(Date.parse(text));
  });

  it.each([
    '2026-02-29T12:00:00Z',
    '1900-02-29T00:00:00Z',
    '2026-04-31T00:00:00Z',
    '2026-12-04T24:00:00Z',
    '2026-12-04T10:00:00+24:00',
  ])('refuses the impossible %s', (text) => {
    expect(parseRfc3339(text)).toBeNaN();
  });
});
