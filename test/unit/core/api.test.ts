import { describe, expect, it } from 'vitest';
import { invoke, Router } from '../../../lambdas/core/api/dispatch.js';
import { openApiDocument } from '../../../lambdas/core/api/openapi.js';
import { PROBLEM_CONTENT_TYPE, toProblem } from '../../../lambdas/core/api/problem.js';
import { ROUTES } from '../../../lambdas/core/api/routes.js';
import {
  ConflictError,
  DependencyUnavailableError,
  type DomainError,
  ForbiddenError,
  GateRefusedError,
  InvalidArtifactError,
  MethodNotAllowedError,
  NotFoundError,
  PayloadTooLargeError,
  ThrottledError,
  UnauthorizedError,
  UnsupportedMediaTypeError,
  ValidationError,
} from '../../../lambdas/core/errors.js';
import { CHAMPION_ID, MemoryArtifactStore, makeApp, T0 } from '../../support/memory-ports.js';

const router = new Router(ROUTES);
const BASE = 'http://127.0.0.1:3000';

function call(app: ReturnType<typeof makeApp>['app'], method: string, path: string, body?: unknown) {
  return invoke(app, router.match(method, path), { query: {}, body, baseUrl: BASE });
}

/** The error a function throws (fails the test when it returns). */
function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  expect.unreachable('it should have thrown');
}

describe('Router', () => {
  it('matches each route of the table by method and path', () => {
    // Act
    const predict = router.match('POST', '/predict');
    const batch = router.match('POST', '/predict/batch');
    const model = router.match('GET', '/models/m_1');

    // Assess
    expect(predict.route.operationId).toBe('predict');
    expect(batch.route.operationId).toBe('predictBatch');
    expect(model).toMatchObject({ route: { operationId: 'getModel' }, params: { id: 'm_1' } });
  });

  it('answers 404 for an unknown path', () => {
    // Act
    const err = thrownBy(() => router.match('GET', '/nope'));

    // Assess
    expect(err).toBeInstanceOf(NotFoundError);
    expect(toProblem(err).status).toBe(404);
  });

  it('does not match a path with an extra segment or a trailing slash', () => {
    // Act
    const extra = thrownBy(() => router.match('GET', '/models/m_1/extra'));
    const slash = thrownBy(() => router.match('POST', '/predict/'));

    // Assess
    expect(extra).toBeInstanceOf(NotFoundError);
    expect(slash).toBeInstanceOf(NotFoundError);
  });

  it('answers 405 with the Allow list of the methods the path has', () => {
    // Act
    const err = thrownBy(() => router.match('DELETE', '/ads/ad-1'));

    // Assess
    expect(err).toBeInstanceOf(MethodNotAllowedError);
    expect([...(err as MethodNotAllowedError).allow].sort()).toEqual(['GET', 'HEAD', 'PUT']);
    const problem = toProblem(err);
    expect(problem.status).toBe(405);
    expect(problem.headers.allow!.split(', ').sort()).toEqual(['GET', 'HEAD', 'PUT']);
  });

  it('matches HEAD to the GET route of a path', () => {
    // Act
    const match = router.match('HEAD', '/ads/ad-1');

    // Assess
    expect(match.route.method).toBe('GET');
    expect(match.params).toEqual({ ad_id: 'ad-1' });
  });

  it('answers 405 with POST for a GET on /predict', () => {
    // Act
    const err = thrownBy(() => router.match('GET', '/predict'));

    // Assess
    expect(toProblem(err).headers.allow).toBe('POST');
  });

  it('percent-decodes path parameters', () => {
    // Act
    const match = router.match('GET', '/ads/summer%20sale%2F7');

    // Assess
    expect(match.params).toEqual({ ad_id: 'summer sale/7' });
  });

  it('refuses a path parameter that is not valid percent-encoding with a 400', () => {
    // Act
    const err = thrownBy(() => router.match('GET', '/ads/%E0%A4%A'));

    // Assess
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).errors).toEqual([{ path: 'ad_id', message: 'is not valid percent-encoding' }]);
  });
});

describe('invoke', () => {
  it('answers a valid prediction with 200 and the prediction', async () => {
    // Prepare
    const { app } = makeApp();

    // Act
    const response = await call(app, 'POST', '/predict', { user_id: 'u', ad_id: 'ad-1' });

    // Assess
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ ad_id: 'ad-1', variant: 'champion' });
  });

  it('refuses a missing JSON body', async () => {
    // Prepare
    const { app } = makeApp();

    // Act
    const act = call(app, 'POST', '/predict', undefined);

    // Assess
    await expect(act).rejects.toBeInstanceOf(ValidationError);
    await expect(act).rejects.toMatchObject({ errors: [{ path: '(body)', message: 'is required' }] });
  });

  it('validates the body before the use case runs', async () => {
    // Prepare
    const { app, ports } = makeApp();

    // Act
    const act = call(app, 'POST', '/predict/batch', { user_id: 'u', ads: [{ ad_id: 'a' }, { ad: 'b' }] });

    // Assess
    await expect(act).rejects.toBeInstanceOf(ValidationError);
    await expect(act).rejects.toMatchObject({
      errors: expect.arrayContaining([
        { path: 'ads.1.ad_id', message: 'is required' },
        { path: 'ads.1.ad', message: 'is not a known field' },
      ]),
    });
    expect(ports.model.calls).toEqual([]);
  });

  it('validates path parameters', async () => {
    // Prepare
    const { app, ports } = makeApp();

    // Act
    const act = call(app, 'PUT', `/ads/${'x'.repeat(129)}`, { campaign_id: 'c', advertiser_id: 'a' });

    // Assess
    await expect(act).rejects.toBeInstanceOf(ValidationError);
    await expect(act).rejects.toMatchObject({
      message: expect.stringContaining('path parameters'),
      errors: [{ path: 'ad_id' }],
    });
    expect(ports.ads.ads.size).toBe(0);
  });

  it('refuses a path parameter with a control character once decoded', async () => {
    // Prepare
    const { app } = makeApp();

    // Act
    const act = call(app, 'GET', '/models/m%0A1');

    // Assess
    await expect(act).rejects.toBeInstanceOf(ValidationError);
  });

  it('puts and gets an ad of the catalogue', async () => {
    // Prepare
    const { app } = makeApp();

    // Act
    const put = await call(app, 'PUT', '/ads/ad-1', { campaign_id: 'c', advertiser_id: 'a', category: 'shoes' });
    const got = await call(app, 'GET', '/ads/ad-1');

    // Assess
    expect(put.status).toBe(200);
    expect(got.body).toEqual({
      ad_id: 'ad-1',
      campaign_id: 'c',
      advertiser_id: 'a',
      category: 'shoes',
      created_at: T0.toISOString(),
      updated_at: T0.toISOString(),
    });
  });

  it('answers an event with 202 and a batch with 200 and its results', async () => {
    // Prepare
    const { app } = makeApp();
    const impression = { impression_id: 'i-1', user_id: 'u', ad_id: 'a', timestamp: '2026-12-04T09:59:00Z' };

    // Act
    const single = await call(app, 'POST', '/event/impression', impression);
    const batch = await call(app, 'POST', '/event/batch', { events: [{ type: 'impression', ...impression }, {}] });

    // Assess
    expect(single).toEqual({ status: 202, body: { status: 'accepted', id: 'i-1' } });
    expect(batch.status).toBe(200);
    expect(batch.body).toMatchObject({
      results: [
        { index: 0, status: 'duplicate' },
        { index: 1, status: 'rejected' },
      ],
    });
  });

  it('runs the upload over the routes, the artifact as a binary body', async () => {
    // Prepare
    const { app } = makeApp();

    // Act
    const started = await call(app, 'POST', '/model/upload', { version: 'v2', metadata: {} });
    const { model_id } = started.body as { model_id: string };
    const put = await call(app, 'PUT', `/model/upload/${model_id}/artifact`, MemoryArtifactStore.manifest());
    const completed = await call(app, 'POST', `/model/upload/${model_id}/complete`);

    // Assess
    expect(started.status).toBe(201);
    expect(put.status).toBe(200);
    expect(completed.body).toMatchObject({ model_id, status: 'candidate' });
  });

  it('reads an absent activation body as {}', async () => {
    // Prepare
    const { app } = makeApp();

    // Act
    const response = await call(app, 'PUT', `/model/activate/${CHAMPION_ID}`, undefined);

    // Assess
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ model_id: CHAMPION_ID, status: 'champion' });
  });

  it('answers /health with each dependency state, 503 when one is down', async () => {
    // Prepare
    const { app } = makeApp({
      health: [
        { name: 'registry', check: async () => ({ status: 'ok' }) },
        {
          name: 'redis',
          check: async () => {
            throw new Error('ECONNREFUSED');
          },
        },
      ],
    });

    // Act
    const response = await call(app, 'GET', '/health');

    // Assess
    expect(response.status).toBe(503);
    expect(response.body).toMatchObject({
      status: 'down',
      dependencies: { registry: { status: 'ok' }, redis: { status: 'down' } },
    });
  });
});

describe('toProblem', () => {
  const cases: [string, DomainError, number][] = [
    ['ValidationError', new ValidationError('bad', [{ path: 'ad_id', message: 'is required' }]), 400],
    ['InvalidArtifactError', new InvalidArtifactError('not a model'), 400],
    ['UnauthorizedError', new UnauthorizedError('no token'), 401],
    ['ForbiddenError', new ForbiddenError('no'), 403],
    ['NotFoundError', new NotFoundError('none'), 404],
    ['MethodNotAllowedError', new MethodNotAllowedError('no', ['GET']), 405],
    ['ConflictError', new ConflictError('taken'), 409],
    ['GateRefusedError', new GateRefusedError('refused', [], { gate: { passed: false } }), 409],
    ['PayloadTooLargeError', new PayloadTooLargeError('big'), 413],
    ['UnsupportedMediaTypeError', new UnsupportedMediaTypeError('xml'), 415],
    ['ThrottledError', new ThrottledError('slow down'), 429],
    ['DependencyUnavailableError', new DependencyUnavailableError('no model'), 503],
  ];

  it.each(cases)('maps %s to %i as problem+json', (_name, err, status) => {
    // Act
    const problem = toProblem(err);

    // Assess
    expect(problem.status).toBe(status);
    expect(problem.headers['content-type']).toBe(PROBLEM_CONTENT_TYPE);
    expect(problem.body).toMatchObject({
      type: `urn:adclick:problem:${err.kind}`,
      title: expect.any(String),
      status,
      detail: err.message,
      errors: err.errors,
    });
  });

  it('covers every kind of domain error', () => {
    // Act
    const kinds = new Set(cases.map(([, err]) => err.kind));

    // Assess
    expect(kinds.size).toBe(10);
  });

  it('carries the field errors and the gate report into the body', () => {
    // Act
    const invalid = toProblem(new ValidationError('bad', [{ path: 'ad_id', message: 'is required' }]));
    const gate = toProblem(new GateRefusedError('refused', [], { gate: { passed: false, reasons: ['x'] } }));

    // Assess
    expect(invalid.body.errors).toEqual([{ path: 'ad_id', message: 'is required' }]);
    expect(gate.body.gate).toEqual({ passed: false, reasons: ['x'] });
  });

  it('asks for a bearer token on 401', () => {
    // Act
    const problem = toProblem(new UnauthorizedError('no token'));

    // Assess
    expect(problem.headers['www-authenticate']).toBe('Bearer');
  });

  it.each([
    ['an Error', new Error('connect ECONNREFUSED 10.0.0.7:6379 for user alice@example.com')],
    ['a TypeError', new TypeError("Cannot read properties of undefined (reading 'alice@example.com')")],
    ['a thrown string', 'alice@example.com secret-token'],
    ['an object', { message: 'alice@example.com', stack: 'at /srv/app.js' }],
  ])('maps %s to a 500 that says nothing from the error', (_label, err) => {
    // Act
    const problem = toProblem(err);

    // Assess
    expect(problem.status).toBe(500);
    expect(problem.body).toEqual({
      type: 'urn:adclick:problem:internal',
      title: 'Internal error',
      status: 500,
      detail: expect.any(String),
      errors: [],
    });
    const text = JSON.stringify(problem);
    for (const leak of ['alice', 'ECONNREFUSED', '10.0.0.7', 'secret', 'Cannot read', '/srv']) {
      expect(text).not.toContain(leak);
    }
  });
});

describe('openApiDocument', () => {
  const doc = openApiDocument(ROUTES, '0') as {
    openapi: string;
    info: { version: string };
    paths: Record<string, Record<string, { operationId: string; parameters?: { name: string; in: string }[] }>>;
    components: { schemas: Record<string, { required?: string[]; additionalProperties?: unknown }> };
  };

  it('is OpenAPI 3 with the given version', () => {
    // Assess
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.info.version).toBe('0');
  });

  it('has every route of ROUTES with its method and operationId', () => {
    // Act
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => `${method.toUpperCase()} ${path} ${op.operationId}`),
    );

    // Assess
    const expected = ROUTES.map((r) => `${r.method} ${r.path} ${r.operationId}`);
    expect(documented.sort()).toEqual(expected.sort());
  });

  it('lists user_id and ad_id as required in PredictRequest and refuses other properties', () => {
    // Act
    const schema = doc.components.schemas.PredictRequest!;

    // Assess
    expect(schema.required).toEqual(expect.arrayContaining(['ad_id', 'user_id']));
    expect(schema.required).not.toContain('features');
    expect(schema.additionalProperties).toBe(false);
  });

  it('documents each path parameter', () => {
    // Act
    const params = doc.paths['/ads/{ad_id}']!.put!.parameters!;

    // Assess
    expect(params).toEqual([expect.objectContaining({ name: 'ad_id', in: 'path' })]);
  });
});
