/**
 * fast-check arbitraries for the hand-written validators' equivalence tests (predict and events
 * against their zod schemas): values at both sides of every shared rule's edge.
 */
import fc from 'fast-check';

export const astral = (n: number) => '\u{1F600}'.repeat(n);
// What zod's length checks also measure when the type is wrong: arrays and objects with a length.
export const lengthy = fc.constantFrom(
  [],
  ['a'],
  Array(41).fill(1),
  Array(129).fill('x'),
  { length: 0 },
  { length: 200 },
  {
    length: 'x',
  },
);
export const timestamp = fc.oneof(
  fc.constantFrom(
    '2026-12-04T10:00:00Z',
    '2026-12-04T10:00:00.123+01:00',
    '2024-02-29T23:59:59-23:59',
    '2026-02-30T10:00:00Z',
    '2026-12-04T24:00:00Z',
    '2026-12-04T10:00:00',
    '2026-12-04',
    `2026-12-04T10:00:00.${'1'.repeat(19)}Z`,
    `2026-12-04T10:00:00.${'1'.repeat(20)}Z`,
    `2026-12-04T10:00:00.${'1'.repeat(30)}Z`,
    '',
  ),
  fc.constantFrom(`2026-12-04T10:00:00.1${astral(19)}Z`, `2026-12-04T10:00:00Z${astral(20)}`),
  fc.integer(),
  fc.constantFrom(null, true, {}),
  lengthy,
);
export const featureName = fc.constantFrom(
  'device_type',
  'site_id',
  '_x',
  'a.b:c-d',
  '1bad',
  '12',
  '',
  'sp ace',
  'k'.repeat(64),
  'k'.repeat(65),
  '__proto__',
);
export const featureValue = fc.oneof(
  fc.string({ maxLength: 4 }),
  fc.constantFrom('v'.repeat(256), 'v'.repeat(257), astral(256), astral(257), `${astral(1)}${'v'.repeat(255)}`),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom([1], { nested: 1 }, []),
);
export const featureMap = fc.oneof(
  { weight: 3, arbitrary: fc.dictionary(featureName, featureValue, { maxKeys: 4 }) },
  // Around the 64-feature limit: all valid, or one value too long (the bound is still checked),
  // or one name or value of the wrong kind (the bound is not).
  {
    weight: 3,
    arbitrary: fc
      .tuple(
        fc.integer({ min: 62, max: 66 }),
        fc.constantFrom(undefined, 'v'.repeat(257), [1]),
        fc.constantFrom(undefined, '1bad'),
      )
      .map(([n, badValue, badName]) =>
        Object.fromEntries(
          Array.from({ length: n }, (_, i) => [
            i === 5 && badName ? badName : `f${i}`,
            i === 3 && badValue !== undefined ? badValue : i,
          ]),
        ),
      ),
  },
  // A JSON body's own __proto__ key, as JSON.parse leaves it.
  fc.constant(JSON.parse('{"ok": 1, "__proto__": {"x": 1}, "1bad": 2}')),
  fc.constantFrom(null, 'mobile', 3, [] as unknown[], [['a', 1]]),
);
