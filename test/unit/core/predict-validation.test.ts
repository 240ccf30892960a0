import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../lambdas/core/errors.js';
import { PredictBatchRequest, PredictRequest } from '../../../lambdas/core/schemas/predict.js';
import { parsePredictBatchRequest, parsePredictRequest } from '../../../lambdas/core/schemas/predict-validation.js';
import { fieldErrors } from '../../../lambdas/core/validation.js';
import { featureMap, timestamp } from '../../support/validation-arbitraries.js';

type Outcome = { ok: true; data: unknown } | { ok: false; errors: string[] };

function viaZod(schema: typeof PredictRequest | typeof PredictBatchRequest, input: unknown): Outcome {
  const r = schema.safeParse(input);
  if (r.success) return { ok: true, data: r.data };
  return {
    ok: false,
    errors: fieldErrors(r.error)
      .map((e) => `${e.path}: ${e.message}`)
      .sort(),
  };
}

function viaValidator(parse: (input: unknown) => unknown, input: unknown): Outcome {
  try {
    return { ok: true, data: parse(input) };
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    return { ok: false, errors: err.errors.map((e) => `${e.path}: ${e.message}`).sort() };
  }
}

// Values near each rule's edges, so that generated requests hit both sides of every check.
const idish = fc.oneof(
  fc.constantFrom('u1', 'ad-7', '', ' a', 'a ', 'a b', 'é', '\u0000', 'x'.repeat(128), 'x'.repeat(129)),
  fc.string({ maxLength: 6 }),
  fc.integer(),
  fc.constant(null),
  fc.boolean(),
);
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
const common = {
  user_id: maybe(idish),
  features: maybe(featureMap),
  request_id: maybe(idish),
  consent: maybe(fc.oneof(fc.boolean(), fc.constantFrom('true', 1, null))),
  explain: maybe(fc.oneof(fc.boolean(), fc.constantFrom('yes', 0))),
  timestamp: maybe(timestamp),
};
const extra = fc.dictionary(fc.constantFrom('adId', 'user', 'x', 'ad_id', 'ads'), fc.jsonValue(), { maxKeys: 2 });
const withoutUndefined = (o: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

const predictBody = fc.record({ ...common, ad_id: maybe(idish) }).chain((o) =>
  fc.oneof(
    fc.constant(withoutUndefined(o)),
    extra.map((e) => ({ ...withoutUndefined(o), ...e })),
  ),
);
const ad = fc.oneof(
  fc.record({ ad_id: maybe(idish), features: maybe(featureMap) }).map(withoutUndefined),
  fc.record({ ad_id: idish, slot: fc.integer() }),
  fc.constantFrom(null, 'ad-1', 7),
);
const adsList = fc.oneof(
  fc.array(ad, { maxLength: 4 }),
  fc.integer({ min: 499, max: 502 }).map((n) => Array.from({ length: n }, (_, i) => ({ ad_id: `ad-${i}` }))),
  fc.constantFrom(null, 'ads', {}),
);
const batchBody = fc.record({ ...common, ads: maybe(adsList) }).chain((o) =>
  fc.oneof(
    fc.constant(withoutUndefined(o)),
    extra.map((e) => ({ ...withoutUndefined(o), ...e })),
  ),
);
const notAnObject = fc.oneof(fc.jsonValue().filter((v) => typeof v !== 'object' || v === null || Array.isArray(v)));

describe('the predict routes’ validator, against the zod contract', () => {
  it('accepts, returns and refuses exactly as PredictRequest does, with the same errors (path and message)', () => {
    fc.assert(
      fc.property(fc.oneof(predictBody, notAnObject), (body) => {
        // Act
        const ours = viaValidator(parsePredictRequest, body);
        const contract = viaZod(PredictRequest, body);

        // Assess
        expect(ours).toEqual(contract);
      }),
      { numRuns: 3_000 },
    );
  });

  it('accepts, returns and refuses exactly as PredictBatchRequest does, with the same errors (path and message)', () => {
    fc.assert(
      fc.property(fc.oneof(batchBody, notAnObject), (body) => {
        // Act
        const ours = viaValidator(parsePredictBatchRequest, body);
        const contract = viaZod(PredictBatchRequest, body);

        // Assess
        expect(ours).toEqual(contract);
      }),
      { numRuns: 2_000 },
    );
  });

  it('refuses a body without ad_id with a 400 naming ad_id as required', () => {
    // Act
    const act = () => parsePredictRequest({ user_id: 'u1' });

    // Assess
    expect(act).toThrowError(ValidationError);
    expect(act).toThrowError('Invalid body: ad_id is required');
  });

  it('returns a copy of the features, never the caller’s object', () => {
    // Prepare
    const features = { device_type: 'mobile' };

    // Act
    const parsed = parsePredictRequest({ user_id: 'u1', ad_id: 'a1', features });

    // Assess
    expect(parsed.features).toEqual(features);
    expect(parsed.features).not.toBe(features);
  });
});
