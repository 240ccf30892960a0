import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Route } from '../../lambdas/core/api/route.js';
import { ROUTES } from '../../lambdas/core/api/routes.js';
import {
  call,
  type ServerProcess,
  spawnServer,
  stopHard,
  type TempDir,
  tempDir,
  timestampIn,
} from '../support/e2e-server.js';
import {
  anyValue,
  type Body,
  bodyToSend,
  CONTENT_TYPES,
  headerSafe,
  type Json,
  nearValid,
  paramArb,
} from '../support/fuzz-arbitraries.js';

const RUNS_PER_ROUTE = 200;
const ADMIN_TOKEN = 'e2e-fuzz-admin-token-0123456789';

let counter = 0;
const fresh = (prefix: string) => `${prefix}-${process.pid}-${counter++}`;

const validImpression = () => ({
  impression_id: fresh('imp'),
  prediction_id: fresh('p'),
  user_id: 'fuzz-user',
  ad_id: 'fuzz-ad',
  timestamp: timestampIn(0),
  device_type: 'mobile',
  location: 'FR',
  ip: '192.0.2.7',
  features: { site_id: 's1', position: 2, premium: true, none: null },
});
const validClick = () => ({
  click_id: fresh('clk'),
  impression_id: fresh('imp'),
  user_id: 'fuzz-user',
  ip: '192.0.2.7',
  clicked: true,
  timestamp: timestampIn(0),
});

const nearValidBatchEvent = fc.oneof(
  nearValid(() => ({ type: 'impression', ...validImpression() })),
  nearValid(() => ({ type: 'click', ...validClick() })),
  anyValue,
);

/** What a near-valid body of each route looks like (routes without a body get arbitrary ones). */
const NEAR_VALID: Readonly<Record<string, fc.Arbitrary<Json>>> = {
  'POST /predict': nearValid(() => ({
    user_id: 'fuzz-user',
    ad_id: 'fuzz-ad',
    features: { device_type: 'mobile', position: 1 },
    request_id: fresh('req'),
    consent: true,
    explain: true,
  })),
  'POST /predict/batch': fc.oneof(
    nearValid(() => ({
      user_id: 'fuzz-user',
      features: { device_type: 'tablet' },
      request_id: fresh('req'),
      consent: false,
      explain: false,
      ads: [{ ad_id: 'a1' }, { ad_id: 'a2', features: { slot: 'top' } }],
    })),
    fc
      .array(
        nearValid(() => ({ ad_id: 'a1', features: { slot: 'top' } })),
        { maxLength: 4 },
      )
      .map((ads) => ({ user_id: 'fuzz-user', ads })),
  ),
  'POST /event/impression': nearValid(validImpression),
  'POST /event/click': nearValid(validClick),
  'POST /event/batch': fc.oneof(
    fc.array(nearValidBatchEvent, { maxLength: 6 }).map((events) => ({ events })),
    nearValid(() => ({ events: [{ type: 'click', ...validClick() }] })),
  ),
  'PUT /ads/{ad_id}': nearValid(() => ({
    campaign_id: 'camp-1',
    advertiser_id: 'adv-1',
    category: 'sports',
    attributes: { size: '300x250', premium: true },
  })),
  'POST /model/upload': nearValid(() => ({ version: fresh('fuzz-version'), metadata: { owner: 'fuzz', n: 1 } })),
  'PUT /model/activate/{id}': nearValid(() => ({ force: false })),
};

/** Mostly the type the route takes, so that bodies get past the content-type check; else anything. */
function contentTypeFor(route: Route | undefined): fc.Arbitrary<string | null> {
  const preferred =
    route?.body?.kind === 'binary' ? route.body.contentTypes : ['application/json', 'application/json; charset=utf-8'];
  return fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...preferred) },
    { weight: 1, arbitrary: fc.constantFrom(...CONTENT_TYPES) },
    { weight: 1, arbitrary: headerSafe },
    { weight: 1, arbitrary: fc.constant(null) },
  );
}

function bodyFor(key: string): fc.Arbitrary<Body> {
  const json = NEAR_VALID[key] ?? anyValue;
  return fc.oneof(
    { weight: 1, arbitrary: fc.constant<Body>({ kind: 'none' }) },
    { weight: 4, arbitrary: json.map((value): Body => ({ kind: 'json', value })) },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((value): Body => ({ kind: 'json', value })) },
    {
      weight: 1,
      arbitrary: fc.string({ unit: 'binary', maxLength: 300 }).map((value): Body => ({ kind: 'string', value })),
    },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 2048 }).map((value): Body => ({ kind: 'bytes', value })) },
  );
}

interface FuzzRequest {
  readonly method: string;
  readonly path: string;
  readonly body: Body;
  readonly contentType: string | null;
  readonly authorised: boolean;
}

describe('the server under random input', () => {
  let dir: TempDir;
  let server: ServerProcess | undefined;
  /** Known model ids: the champion and a model still uploading (so the artifact route stores bytes). */
  const knownIds: string[] = ['fuzz-ad', 'ad-1'];

  beforeAll(async () => {
    dir = await tempDir('fuzz');
    server = await spawnServer(dir.path, { ADCLICK_ADMIN_TOKEN: ADMIN_TOKEN, ADCLICK_LOG_LEVEL: 'error' });
    const active = await call(server.url, 'GET', '/model/active', { token: ADMIN_TOKEN });
    const uploading = await call(server.url, 'POST', '/model/upload', {
      token: ADMIN_TOKEN,
      body: { version: 'fuzz-uploading', metadata: {} },
    });
    knownIds.push(active.json.model_id, uploading.json.model_id);
  });

  afterAll(async () => {
    await stopHard(server);
    await dir?.cleanup();
  });

  async function send(r: FuzzRequest) {
    const base = server!.url;
    return call(base, r.method, r.path, {
      body: bodyToSend(r.method, r.body),
      contentType: r.contentType,
      ...(r.authorised ? { token: ADMIN_TOKEN } : {}),
    });
  }

  function assertSane(r: FuzzRequest, res: Awaited<ReturnType<typeof send>>): void {
    const what = `${r.method} ${r.path} (${r.contentType}) ${JSON.stringify(r.body).slice(0, 300)} → ${res.status} ${res.text.slice(0, 300)}`;
    expect(res.status, what).toBeLessThan(500);
    if (res.status >= 400) {
      expect(res.headers.get('content-type'), what).toContain('application/problem+json');
      expect(res.json?.status, what).toBe(res.status);
    }
  }

  it.each(ROUTES.map((r) => [r.method, r.path, r] as const))(
    'never answers %s %s with a 5xx, whatever the body, content type or parameters',
    async (method, template, route) => {
      // Prepare
      const key = `${method} ${template}`;
      const pathArb = template.includes('{')
        ? paramArb(() => knownIds).map((p) => template.replace(/\{\w+\}/, p))
        : fc.constant(template);
      const requestArb = fc.record({
        method: fc.constant(method),
        path: pathArb,
        body: bodyFor(key),
        contentType: contentTypeFor(route),
        authorised: fc.constantFrom(true, true, true, true, false),
      });

      // Act + Assess
      await fc.assert(
        fc.asyncProperty(requestArb, async (r) => {
          assertSane(r, await send(r));
        }),
        { numRuns: RUNS_PER_ROUTE },
      );
    },
  );

  it('never answers random methods and paths with a 5xx', async () => {
    // Prepare
    const segment = fc.oneof(
      fc.constantFrom('predict', 'batch', 'event', 'model', 'models', 'ads', 'upload', 'health', 'openapi.json', ''),
      fc.string({ unit: 'binary', maxLength: 20 }).map((s) => encodeURIComponent(s)),
      fc.constantFrom('%', '%E0%A4%A', '..', '.', '%2e%2e'),
    );
    const requestArb = fc.record({
      method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'),
      path: fc.array(segment, { minLength: 1, maxLength: 5 }).map((s) => `/${s.join('/')}`),
      body: bodyFor(''),
      contentType: contentTypeFor(undefined),
      authorised: fc.boolean(),
    });

    // Act + Assess
    await fc.assert(
      fc.asyncProperty(requestArb, async (r) => {
        assertSane(r, await send(r));
      }),
      { numRuns: RUNS_PER_ROUTE },
    );
  });

  it('keeps answering, and logged no unhandled error, after all of it', async () => {
    // Act
    const health = await call(server!.url, 'GET', '/health');
    const predict = await call(server!.url, 'POST', '/predict', { body: { user_id: 'after', ad_id: 'fuzz-ad' } });

    // Assess
    expect(health.status).toBe(200);
    expect(predict.status).toBe(200);
    expect(server!.proc.exitCode).toBeNull();
    expect(server!.stderr()).not.toMatch(/unhandled error/);
  });
});
