import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../lambdas/core/errors.js';
import {
  parseBatchEvent,
  parseClickEvent,
  parseImpressionEvent,
} from '../../../lambdas/core/schemas/event-validation.js';
import { BatchEvent, ClickEvent, ImpressionEvent } from '../../../lambdas/core/schemas/events.js';
import { fieldErrors, parseOrThrow, summarise } from '../../../lambdas/core/validation.js';
import { astral, featureMap, lengthy, timestamp } from '../../support/validation-arbitraries.js';

type Outcome =
  | { ok: true; data: unknown }
  | { ok: false; message: string; errors: readonly { path: string; message: string }[] };

function run(parse: () => unknown): Outcome {
  try {
    return { ok: true, data: parse() };
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    return { ok: false, message: err.message, errors: err.errors };
  }
}

/** What the batch use case made of an event with zod: BatchEvent.safeParse, fieldErrors, summarise. */
function batchViaZod(input: unknown, prefix: string): Outcome {
  const r = BatchEvent.safeParse(input);
  if (r.success) return { ok: true, data: r.data };
  const errors = fieldErrors(r.error, prefix);
  return { ok: false, message: summarise(errors), errors };
}

// Values near each rule's edges, so that generated events hit both sides of every check.
// Counted in code points by zod: an astral character is two UTF-16 units but one character.
const idish = fc.oneof(
  fc.constantFrom(astral(64), astral(65), astral(129), `${astral(1)}a`),
  lengthy,
  fc.constantFrom('u1', 'ad-7', 'x', '', ' a', 'a ', 'a b', '~!', 'é', '\u0000', '\u007f', 'a\tb'),
  fc.constantFrom('x'.repeat(127), 'x'.repeat(128), 'x'.repeat(129), ' '.repeat(129), `é${'x'.repeat(128)}`),
  fc.string({ maxLength: 6 }),
  fc.string({ unit: 'binary', maxLength: 4 }),
  fc.integer(),
  fc.constantFrom(null, true, [], {}, ['a']),
);
const shortText = fc.oneof(
  fc.constantFrom(astral(1), astral(64), astral(65), astral(128), astral(129), `\ud800${'x'.repeat(128)}`),
  lengthy,
  fc.constantFrom('mobile', 'FR', '', ' ', 'é', 'x'.repeat(128), 'x'.repeat(129), '\u0000'),
  fc.string({ maxLength: 4 }),
  fc.constantFrom(0, null, false, [], { a: 1 }),
);
const ip = fc.oneof(
  // IPv4: the edges of an octet, leading zeros, too few or many parts.
  fc.constantFrom(
    '0.0.0.0',
    '255.255.255.255',
    '203.0.113.7',
    '256.1.1.1',
    '01.2.3.4',
    '1.2.3.04',
    '1.2.3',
    '1.2.3.4.5',
    '1.2.3.4 ',
    ' 1.2.3.4',
    '1..2.3',
    '1.2.3.4/24',
    '0x7f.0.0.1',
    '١.٢.٣.٤',
  ),
  // IPv6: compression, embedded IPv4, zone ids, case, too many groups or digits.
  fc.constantFrom(
    '::',
    '::1',
    ':::',
    '1::',
    '2001:db8::1',
    '2001:DB8::A',
    '2001:0db8:85a3:0000:0000:8a2e:0370:7334',
    '1:2:3:4:5:6:7:8',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7::',
    '::2:3:4:5:6:7:8',
    '1::2::3',
    '12345::',
    '::ffff:1.2.3.4',
    '::ffff:01.2.3.4',
    '::ffff:256.2.3.4',
    '::1.2.3.4',
    '1:2:3:4:5:6:1.2.3.4',
    '1:2:3:4:5:6:7:1.2.3.4',
    '::ffff:1.2.3',
    'fe80::1%eth0',
    'fe80::1%25eth0',
    '[::1]',
    '::1\n',
    '::g',
    ':1',
    '1:',
    '.',
    '::.',
  ),
  // Random strings over the addresses' alphabet, to reach what the lists above do not.
  fc.string({ unit: fc.constantFrom('0', '1', '9', 'a', 'F', 'f', 'g', ':', '.', '%'), maxLength: 20 }),
  fc.ipV4(),
  fc.ipV4Extended(),
  fc.ipV6(),
  fc.constantFrom(7, null, true, ['1.2.3.4'], {}),
  lengthy,
);
const boolish = fc.oneof(fc.boolean(), fc.constantFrom('true', 1, 0, null, []));

const withoutUndefined = (o: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

// Each field mostly right, now and then at an edge or missing, so that about a quarter of the
// generated events are valid and every refusal is also met alone.
const field = (good: fc.Arbitrary<unknown>, edge: fc.Arbitrary<unknown>, optional = false) =>
  fc.oneof(
    { weight: 12, arbitrary: good },
    { weight: 1, arbitrary: edge },
    { weight: optional ? 4 : 1, arbitrary: fc.constant(undefined) },
  );
const goodId = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,10}$/);
const goodTime = fc.constantFrom('2026-12-04T10:00:00Z', '2026-12-04T10:00:00.5-05:30');
const goodText = fc.constantFrom('mobile', 'desktop', 'FR', 'Paris');
const goodIp = fc.oneof(fc.ipV4(), fc.ipV6());
const goodFeatures = fc.dictionary(
  fc.constantFrom('device_type', 'site_id', 'slot', 'position'),
  fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.boolean()),
  { maxKeys: 3 },
);

const impressionFields = fc.record({
  impression_id: field(goodId, idish),
  prediction_id: field(goodId, idish, true),
  user_id: field(goodId, idish),
  ad_id: field(goodId, idish),
  timestamp: field(goodTime, timestamp),
  device_type: field(goodText, shortText, true),
  location: field(goodText, shortText, true),
  ip: field(goodIp, ip, true),
  features: field(goodFeatures, featureMap, true),
});
const clickFields = fc.record({
  click_id: field(goodId, idish),
  impression_id: field(goodId, idish),
  user_id: field(goodId, idish, true),
  ip: field(goodIp, ip, true),
  clicked: field(fc.boolean(), boolish),
  timestamp: field(goodTime, timestamp),
});
// A valid event with one field at an edge: each rule's refusal met on its own, often.
const impressionEdges: Record<string, fc.Arbitrary<unknown>> = {
  impression_id: idish,
  prediction_id: idish,
  user_id: idish,
  ad_id: idish,
  timestamp,
  device_type: shortText,
  location: shortText,
  ip,
  features: featureMap,
};
const clickEdges: Record<string, fc.Arbitrary<unknown>> = {
  click_id: idish,
  impression_id: idish,
  user_id: idish,
  ip,
  clicked: boolish,
  timestamp,
};
const oneEdge = (fields: fc.Arbitrary<Record<string, unknown>>, edges: Record<string, fc.Arbitrary<unknown>>) =>
  fc
    .tuple(fields, fc.constantFrom(...Object.keys(edges)))
    .chain(([o, key]) => edges[key]!.map((v) => ({ ...withoutUndefined(o), [key]: v })));

// Unknown keys, including another event's fields and a JSON body's own __proto__.
const extra = fc.oneof(
  fc.dictionary(fc.constantFrom('x', 'adId', 'click_id', 'features', 'clicked', 'type', 'extra'), fc.jsonValue(), {
    maxKeys: 2,
  }),
  fc.constant(JSON.parse('{"__proto__": {"type": "click"}}')),
);
const withExtras = (fields: fc.Arbitrary<Record<string, unknown>>) =>
  fields.chain((o) =>
    fc.oneof(
      { weight: 3, arbitrary: fc.constant(withoutUndefined(o)) },
      { weight: 1, arbitrary: extra.map((e) => ({ ...withoutUndefined(o), ...e })) },
    ),
  );
// A missing, wrong or mismatched type now and then.
const oddType = fc.constantFrom(undefined, 'impression', 'click', 'Impression', 'clicks', '', null, 1, ['click']);
const notAnObject = fc.oneof(
  fc.jsonValue().filter((v) => typeof v !== 'object' || v === null || Array.isArray(v)),
  fc.constant([{ type: 'click' }]),
);

const impressionBody = fc.oneof(
  { weight: 3, arbitrary: withExtras(impressionFields) },
  { weight: 1, arbitrary: oneEdge(impressionFields, impressionEdges) },
);
const clickBody = fc.oneof(
  { weight: 3, arbitrary: withExtras(clickFields) },
  { weight: 1, arbitrary: oneEdge(clickFields, clickEdges) },
);
const batchEvent = fc.oneof(
  { weight: 5, arbitrary: impressionBody.map((o) => ({ ...o, type: 'impression' })) },
  { weight: 5, arbitrary: clickBody.map((o) => ({ ...o, type: 'click' })) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(oddType, fc.oneof(impressionBody, clickBody))
      .map(([type, o]) => (type === undefined ? o : { ...o, type })),
  },
  { weight: 1, arbitrary: notAnObject },
);

describe('the event validator, against the zod contract', () => {
  it('accepts, returns and refuses each batch event exactly as BatchEvent does, with the same errors', () => {
    let accepted = 0;
    fc.assert(
      fc.property(batchEvent, fc.nat(499), (event, index) => {
        // Act
        const ours = run(() => parseBatchEvent(event, `events.${index}`));
        const contract = batchViaZod(event, `events.${index}`);

        // Assess
        expect(ours).toStrictEqual(contract);
        if (ours.ok) accepted++;
      }),
      { numRuns: 5_000 },
    );
    // Both sides of the contract were exercised, not only refusals.
    expect(accepted).toBeGreaterThan(1_000);
  });

  it('accepts, returns and refuses an impression body exactly as ImpressionEvent does', () => {
    fc.assert(
      fc.property(fc.oneof({ weight: 8, arbitrary: impressionBody }, { weight: 1, arbitrary: notAnObject }), (body) => {
        // Act
        const ours = run(() => parseImpressionEvent(body));
        const contract = run(() => parseOrThrow(ImpressionEvent, body));

        // Assess
        expect(ours).toStrictEqual(contract);
      }),
      { numRuns: 1_500 },
    );
  });

  it('accepts, returns and refuses a click body exactly as ClickEvent does', () => {
    fc.assert(
      fc.property(fc.oneof({ weight: 8, arbitrary: clickBody }, { weight: 1, arbitrary: notAnObject }), (body) => {
        // Act
        const ours = run(() => parseClickEvent(body));
        const contract = run(() => parseOrThrow(ClickEvent, body));

        // Assess
        expect(ours).toStrictEqual(contract);
      }),
      { numRuns: 1_500 },
    );
  });

  const impression = {
    type: 'impression',
    impression_id: 'i1',
    user_id: 'u1',
    ad_id: 'a1',
    timestamp: '2026-12-04T10:00:00Z',
  };
  const manyFeatures = (n: number, patch: Record<string, unknown> = {}) => ({
    ...Object.fromEntries(Array.from({ length: n }, (_, i) => [`f${i}`, i])),
    ...patch,
  });
  it.each([
    ['an IPv4-mapped IPv6 address', { ip: '::ffff:203.0.113.7' }, true],
    ['the unspecified IPv6 address', { ip: '::' }, true],
    ['an IPv6 address with a zone id', { ip: 'fe80::1%eth0' }, false],
    ['an IPv4 address with a leading zero', { ip: '203.0.113.07' }, false],
    ['128 astral characters of text (zod counts code points)', { device_type: '\u{1F600}'.repeat(128) }, true],
    ['129 astral characters of text', { location: '\u{1F600}'.repeat(129) }, false],
    ['an id of 65 astral characters (refused as not ASCII, not as too long)', { ad_id: '\u{1F600}'.repeat(65) }, false],
    ['an empty array for an id (zod also measures its length)', { user_id: [] }, false],
    [
      '65 features, one of them too long (the bound is still checked)',
      { features: manyFeatures(65, { f3: 'v'.repeat(257) }) },
      false,
    ],
    ['65 features, one badly named (the bound is not checked)', { features: manyFeatures(65, { '1bad': 1 }) }, false],
    ['a feature string of 256 astral characters', { features: { a: '\u{1F600}'.repeat(256) } }, true],
  ])('treats %s as BatchEvent does', (_name, patch, ok) => {
    // Prepare
    const event = { ...impression, ...patch };

    // Act
    const ours = run(() => parseBatchEvent(event, 'events.0'));

    // Assess
    expect(ours).toStrictEqual(batchViaZod(event, 'events.0'));
    expect(ours.ok).toBe(ok);
  });

  it('refuses an event without a type by naming the type, as zod’s discriminated union does', () => {
    // Act
    const act = () => parseBatchEvent({ click_id: 'c1' }, 'events.2');

    // Assess
    expect(act).toThrowError(ValidationError);
    expect(act).toThrowError("events.2.type Invalid discriminator value. Expected 'impression' | 'click'");
  });

  it('returns a copy of the event and its features, never the caller’s objects', () => {
    // Prepare
    const features = { device_type: 'mobile' };
    const event = {
      type: 'impression',
      impression_id: 'i1',
      user_id: 'u1',
      ad_id: 'a1',
      timestamp: '2026-12-04T10:00:00Z',
      ip: '::ffff:203.0.113.7',
      features,
    };

    // Act
    const parsed = parseBatchEvent(event, 'events.0');

    // Assess
    expect(parsed).toStrictEqual(event);
    expect(parsed).not.toBe(event);
    expect(parsed.type === 'impression' && parsed.features).not.toBe(features);
  });
});
