import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { invoke, Router } from '../../../lambdas/core/api/dispatch.js';
import type { Route } from '../../../lambdas/core/api/route.js';
import { ROUTES } from '../../../lambdas/core/api/routes.js';
import { DomainError } from '../../../lambdas/core/errors.js';
import { addCandidate, CHAMPION_ID, makeApp, T0 } from '../../support/memory-ports.js';

const router = new Router(ROUTES);
const JSON_ROUTES = ROUTES.filter((r) => r.body?.kind === 'json');

/** A concrete path for a route template, with parameters the registry and catalogue know. */
function concretePath(route: Route, modelId: string): string {
  return route.path.replace('{ad_id}', 'ad-1').replace('{id}', modelId);
}

const anyJson = fc.jsonValue({ maxDepth: 4 });

/** Strings near the id rules: valid ids, edges, controls, and anything. */
const idish = fc.oneof(
  { weight: 12, arbitrary: fc.stringMatching(/^[a-z0-9][a-z0-9 _:-]{0,20}[a-z0-9]$/) },
  { weight: 1, arbitrary: fc.constantFrom('a'.repeat(128), 'a'.repeat(129), '', ' x', 'x\n', '__proto__') },
  { weight: 1, arbitrary: fc.string({ maxLength: 140 }) },
);

/** Strings shaped like RFC 3339 timestamps with arbitrary (often impossible) fields. */
const timestampish = fc.oneof(
  fc
    .tuple(
      fc.integer({ min: 0, max: 9999 }),
      fc.integer({ min: 0, max: 99 }),
      fc.integer({ min: 0, max: 99 }),
      fc.integer({ min: 0, max: 99 }),
      fc.integer({ min: 0, max: 99 }),
      fc.integer({ min: 0, max: 99 }),
      fc.constantFrom('Z', 'z', '+00:00', '-23:59', '+99:99', '', '.123456789Z'),
      fc.constantFrom('T', 't', ' '),
    )
    .map(([y, mo, d, h, mi, s, zone, sep]) => {
      const p = (n: number, w = 2) => String(n).padStart(w, '0');
      return `${p(y, 4)}-${p(mo)}-${p(d)}${sep}${p(h)}:${p(mi)}:${p(s)}${zone}`;
    }),
  fc.integer({ min: -500 * 86_400_000, max: 10 * 60_000 }).map((ms) => new Date(T0.getTime() + ms).toISOString()),
  fc.integer({ min: -400 * 86_400_000, max: 5 * 60_000 }).map((ms) => new Date(T0.getTime() + ms).toISOString()),
);
const ipish = fc.oneof({ weight: 4, arbitrary: fc.oneof(fc.ipV4(), fc.ipV6()) }, { weight: 1, arbitrary: fc.string() });
const shortText = fc.oneof(
  { weight: 8, arbitrary: fc.string({ minLength: 1, maxLength: 20 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 130 }) },
);

const featureName = fc.oneof(
  fc.constantFrom('device_type', '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'ad_id', 'user_clicks'),
  fc.stringMatching(/^[a-z_][a-z0-9_.:-]{0,12}$/),
);
const featureValue = fc.oneof(fc.string({ maxLength: 20 }), fc.double(), fc.boolean(), fc.constant(null));
const features = fc.oneof(
  { weight: 12, arbitrary: fc.dictionary(featureName, featureValue, { maxKeys: 8 }) },
  {
    weight: 1,
    arbitrary: fc.dictionary(
      fc.oneof(featureName, fc.string()),
      fc.oneof(featureValue, fc.string({ maxLength: 300 }), anyJson),
      { maxKeys: 70 },
    ),
  },
  { weight: 1, arbitrary: anyJson },
);

/** Each field of a valid example mostly kept, else dropped or replaced; rarely an unknown key added. */
function nearValid(example: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<unknown> {
  const entries = Object.entries(example).map(
    ([key, valid]) =>
      [
        key,
        fc.oneof(
          { weight: 16, arbitrary: valid },
          { weight: 1, arbitrary: fc.constant(null) },
          { weight: 1, arbitrary: anyJson },
        ),
      ] as const,
  );
  return fc
    .tuple(
      fc.tuple(...entries.map(([, arb]) => arb)),
      fc.oneof(
        { weight: 10, arbitrary: fc.constant(null) },
        { weight: 1, arbitrary: fc.tuple(fc.string({ maxLength: 10 }), anyJson) },
      ),
    )
    .map(([values, extra]) => {
      const body: Record<string, unknown> = {};
      entries.forEach(([key], i) => {
        if (values[i] !== null) body[key] = values[i];
      });
      if (extra) body[extra[0]] = extra[1];
      return body;
    });
}

const impression = {
  impression_id: idish,
  prediction_id: idish,
  user_id: idish,
  ad_id: idish,
  timestamp: timestampish,
  device_type: shortText,
  location: shortText,
  ip: ipish,
  features,
};
const click = {
  click_id: idish,
  impression_id: idish,
  user_id: idish,
  ip: ipish,
  clicked: fc.boolean(),
  timestamp: timestampish,
};
const predict = {
  user_id: idish,
  ad_id: idish,
  features,
  request_id: idish,
  consent: fc.boolean(),
  explain: fc.boolean(),
};

const NEAR_VALID: Record<string, fc.Arbitrary<unknown>> = {
  predict: nearValid(predict),
  predictBatch: nearValid({
    user_id: idish,
    features,
    request_id: idish,
    consent: fc.boolean(),
    explain: fc.boolean(),
    ads: fc.oneof(
      {
        weight: 8,
        arbitrary: fc.array(fc.record({ ad_id: idish, features }, { requiredKeys: ['ad_id'] }), {
          minLength: 1,
          maxLength: 4,
        }),
      },
      { weight: 1, arbitrary: fc.array(nearValid({ ad_id: idish, features }), { maxLength: 8 }) },
    ),
  }),
  recordImpression: nearValid(impression),
  recordClick: nearValid(click),
  recordEvents: nearValid({
    events: fc.array(
      fc.oneof(
        nearValid({ type: fc.constant('impression'), ...impression }),
        nearValid({ type: fc.constant('click'), ...click }),
        anyJson,
      ),
      { maxLength: 8 },
    ),
  }),
  putAd: nearValid({ campaign_id: idish, advertiser_id: idish, category: fc.string(), attributes: features }),
  startModelUpload: nearValid({ version: idish, metadata: fc.dictionary(fc.string(), anyJson, { maxKeys: 5 }) }),
  activateModel: nearValid({ force: fc.boolean() }),
  createExperiment: nearValid({
    name: fc.string(),
    variants: fc.array(
      nearValid({ model_id: fc.oneof(idish, fc.constantFrom(CHAMPION_ID, 'm_cand')), weight: fc.double() }),
      {
        maxLength: 12,
      },
    ),
    campaign_ids: fc.array(idish, { maxLength: 4 }),
  }),
};

describe('invoke over arbitrary JSON bodies', () => {
  it('covers every JSON route with a near-valid generator', () => {
    // Assess
    expect(JSON_ROUTES.map((r) => r.operationId).sort()).toEqual(Object.keys(NEAR_VALID).sort());
  });

  it.each(JSON_ROUTES.map((r) => [`${r.method} ${r.path}`, r] as const))(
    '%s either resolves or throws a DomainError',
    async (_name, route) => {
      // Prepare
      const body = fc.oneof(
        { weight: 1, arbitrary: anyJson },
        { weight: 3, arbitrary: NEAR_VALID[route.operationId]! },
      );
      const property = fc.asyncProperty(
        body,
        fc.constantFrom(CHAMPION_ID, 'm_cand', 'm_unknown'),
        async (raw, modelId) => {
          const { app, ports } = makeApp();
          addCandidate(ports, 'm_cand');
          const json: unknown = raw === undefined ? undefined : JSON.parse(JSON.stringify(raw));
          const match = router.match(route.method, concretePath(route, modelId));

          // Act
          let outcome: unknown;
          try {
            await invoke(app, match, { query: {}, body: json, baseUrl: 'http://127.0.0.1:3000' });
            outcome = 'resolved';
          } catch (err) {
            outcome = err;
          }

          // Assess
          if (outcome !== 'resolved' && !(outcome instanceof DomainError)) {
            throw new Error(`not a DomainError: ${String(outcome)}`, { cause: outcome });
          }
        },
      );

      await fc.assert(property, { numRuns: 300 });
    },
  );

  it('resolves for a good share of the near-valid predictions (the generator reaches the use case)', async () => {
    // Prepare
    const samples = fc.sample(NEAR_VALID.predict!, { numRuns: 300, seed: 42 });
    const { app } = makeApp();
    const match = router.match('POST', '/predict');

    // Act
    let resolved = 0;
    for (const raw of samples) {
      try {
        await invoke(app, match, { query: {}, body: JSON.parse(JSON.stringify(raw)), baseUrl: '' });
        resolved++;
      } catch {
        // refused: fine for this count
      }
    }

    // Assess
    expect(resolved).toBeGreaterThan(samples.length / 5);
  });
});
