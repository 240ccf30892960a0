import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  FeatureEncoder,
  type FeatureMap,
  type FeatureValue,
  fnv1a32,
  MISSING,
  numericBucket,
  tokenOf,
} from '../../../sagemaker/model/encoding.js';

const FIELDS = ['device_type', 'site_id', 'position', 'ad_id', 'campaign_id', 'user_impressions', 'user_ctr'];

/** Reference FNV-1a 32 over bytes, written the textbook way. */
function fnvBytes(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h >>> 0;
}

const anyString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 12 }),
  // UTF-16 code units, lone surrogates included.
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 12 }),
);
const featureValue: fc.Arbitrary<FeatureValue | undefined> = fc.oneof(
  anyString,
  fc.double(),
  fc.integer({ min: -1_000_000, max: 1_000_000 }),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
);
const featureMap = fc.dictionary(fc.constantFrom(...FIELDS), featureValue);

describe('fnv1a32', () => {
  it('matches the published FNV-1a 32-bit test vectors', () => {
    // Act
    const vectors = ['', 'a', 'foobar'].map((s) => fnv1a32(s));

    // Assess
    expect(vectors).toEqual([0x811c9dc5, 0xe40c292c, 0xbf9cf968]);
  });

  it('hashes the UTF-8 bytes of any string, lone surrogates as U+FFFD', () => {
    fc.assert(
      fc.property(anyString, (s) => {
        // Act
        const hashed = fnv1a32(s);

        // Assess
        expect(hashed).toBe(fnvBytes(Buffer.from(s, 'utf8')));
      }),
    );
  });
});

describe('tokenOf', () => {
  it('writes categorical values as field=value and booleans as field=true/false', () => {
    // Act
    const tokens = [tokenOf('device_type', 'mobile'), tokenOf('is_new', true), tokenOf('is_new', false)];

    // Assess
    expect(tokens).toEqual(['device_type=mobile', 'is_new=true', 'is_new=false']);
  });

  it('writes null, missing and NaN as field=<missing>', () => {
    // Act
    const tokens = [tokenOf('site_id', null), tokenOf('site_id', undefined), tokenOf('site_id', Number.NaN)];

    // Assess
    expect(tokens).toEqual(Array(3).fill(`site_id=${MISSING}`));
  });

  it('puts numbers in two buckets per factor of two of |x|, keeps the sign, and gives 0 its own bucket', () => {
    // Act
    const tokens = [0, 1, 1.41, 1.42, 2, 3, 3.1, 4, 0.5, -3, 0.013, Number.POSITIVE_INFINITY].map((x) =>
      tokenOf('x', x),
    );

    // Assess
    expect(tokens).toEqual([
      'x#0',
      'x#p0',
      'x#p0',
      'x#p1',
      'x#p2',
      'x#p3',
      'x#p3',
      'x#p4',
      'x#p-2',
      'x#n3',
      'x#p-13',
      'x#pinf',
    ]);
  });

  it('buckets numbers at powers of √2', () => {
    fc.assert(
      fc.property(fc.integer({ min: -100, max: 100 }), (k) => {
        // Prepare
        const edge = 2 ** (k / 2);

        // Act
        const below = numericBucket(edge * (1 - 1e-9));
        const above = numericBucket(edge * (1 + 1e-9));

        // Assess
        expect(below).toBe(k - 1);
        expect(above).toBe(k);
      }),
    );
  });
});

describe('FeatureEncoder', () => {
  it('gives the slot of each field its field=value token would hash to', () => {
    const encoder = new FeatureEncoder({ bits: 20, seed: 7, fields: FIELDS });
    fc.assert(
      fc.property(featureMap, (features) => {
        // Act
        const { indices, fields } = encoder.encode(features);

        // Assess
        expect(fields).toEqual(FIELDS);
        FIELDS.forEach((field, i) => {
          expect(indices[i]).toBe(encoder.slotOf(tokenOf(field, features[field])));
        });
      }),
    );
  });

  it('is deterministic: same features, new encoder, other key order, same slots', () => {
    fc.assert(
      fc.property(featureMap, (features) => {
        // Prepare
        const reversed = Object.fromEntries(Object.entries(features).reverse()) as FeatureMap;

        // Act
        const first = new FeatureEncoder({ fields: FIELDS }).encode(features).indices;
        const second = new FeatureEncoder({ fields: FIELDS }).encode(reversed).indices;

        // Assess
        expect([...second]).toEqual([...first]);
      }),
    );
  });

  it('keeps every slot inside 2^bits', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 24 }), featureMap, (bits, features) => {
        // Act
        const { indices } = new FeatureEncoder({ bits, fields: FIELDS }).encode(features);

        // Assess
        for (const slot of indices) {
          expect(slot).toBeGreaterThanOrEqual(0);
          expect(slot).toBeLessThan(2 ** bits);
        }
      }),
    );
  });

  it('encodes null, an absent key and NaN alike', () => {
    // Prepare
    const encoder = new FeatureEncoder({ fields: ['user_ctr'] });

    // Act
    const slots = [{ user_ctr: null }, {}, { user_ctr: Number.NaN }].map((f) => encoder.encode(f).indices[0]);

    // Assess
    expect(new Set(slots).size).toBe(1);
    expect(slots[0]).toBe(encoder.slotOf('user_ctr=<missing>'));
  });

  it('encodes a boolean like the string of the same name, and a number unlike its string', () => {
    // Prepare
    const encoder = new FeatureEncoder({ fields: ['flag', 'position'] });

    // Act
    const [flagTrue, positionNumber] = encoder.encode({ flag: true, position: 5 }).indices;
    const [flagString, positionString] = encoder.encode({ flag: 'true', position: '5' }).indices;

    // Assess
    expect(flagTrue).toBe(flagString);
    expect(positionNumber).not.toBe(positionString);
  });

  it('gives the same value in two fields two different slots', () => {
    // Prepare
    const encoder = new FeatureEncoder({ fields: ['site_id', 'ad_id'] });

    // Act
    const [site, ad] = encoder.encode({ site_id: 'x1', ad_id: 'x1' }).indices;

    // Assess
    expect(site).not.toBe(ad);
  });

  it('ignores the fields it does not know', () => {
    // Prepare
    const encoder = new FeatureEncoder({ fields: ['device_type'] });

    // Act
    const known = encoder.encode({ device_type: 'mobile' });
    const extra = encoder.encode({ device_type: 'mobile', never_seen: 'x' });

    // Assess
    expect(extra.fields).toEqual(['device_type']);
    expect([...extra.indices]).toEqual([...known.indices]);
  });

  it('spreads tokens differently under another hash seed', () => {
    // Prepare
    const features = Object.fromEntries(FIELDS.map((f, i) => [f, `v${i}`]));

    // Act
    const a = new FeatureEncoder({ seed: 1, fields: FIELDS }).encode(features).indices;
    const b = new FeatureEncoder({ seed: 2, fields: FIELDS }).encode(features).indices;

    // Assess
    const same = a.filter((slot, i) => slot === b[i]).length;
    expect(same).toBeLessThan(FIELDS.length);
  });

  it('treats a field named like an Object.prototype member as missing when absent', () => {
    // Prepare
    const encoder = new FeatureEncoder({ fields: ['constructor', '__proto__', 'toString'] });

    // Act
    const absent = encoder.encode({}).indices;
    const present = encoder.encode(JSON.parse('{"constructor":"a","__proto__":"b","toString":"c"}')).indices;

    // Assess
    expect([...absent]).toEqual([
      encoder.slotOf('constructor=<missing>'),
      encoder.slotOf('__proto__=<missing>'),
      encoder.slotOf('toString=<missing>'),
    ]);
    expect([...present]).toEqual([
      encoder.slotOf('constructor=a'),
      encoder.slotOf('__proto__=b'),
      encoder.slotOf('toString=c'),
    ]);
  });

  it('learns new fields in order of appearance while training', () => {
    // Prepare
    const encoder = new FeatureEncoder({ fields: ['a'] });

    // Act
    encoder.observe({ b: 1, a: 2 });
    const count = encoder.observe({ c: null, b: 3 });

    // Assess
    expect(count).toBe(3);
    expect(encoder.fields).toEqual(['a', 'b', 'c']);
  });

  it('refuses hash bits outside [1, 28] and duplicate fields', () => {
    // Act
    const attempts = [
      () => new FeatureEncoder({ bits: 0 }),
      () => new FeatureEncoder({ bits: 29 }),
      () => new FeatureEncoder({ bits: 2.5 }),
      () => new FeatureEncoder({ fields: ['a', 'a'] }),
    ];

    // Assess
    for (const attempt of attempts) expect(attempt).toThrow(RangeError);
  });

  it('refuses an output buffer smaller than its field count', () => {
    // Prepare
    const encoder = new FeatureEncoder({ fields: FIELDS });

    // Act
    const attempt = () => encoder.encodeInto({}, new Uint32Array(2));

    // Assess
    expect(attempt).toThrow(/output holds 2 slots/);
  });
});
