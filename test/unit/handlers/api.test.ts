import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PROBLEM_CONTENT_TYPE } from '../../../lambdas/core/api/problem.js';
import type { App } from '../../../lambdas/core/app.js';
import { MAX_BODY_BYTES } from '../../../lambdas/core/schemas/common.js';
import type { Deps } from '../../../lambdas/core/usecases/deps.js';
import { createApiHandler } from '../../../lambdas/handlers/api.js';
import type { RequestMeasure } from '../../../lambdas/handlers/observability.js';
import { makeApp } from '../../support/memory-ports.js';
import { apiEvent, lambdaContext, withBody } from './api-gateway-events.js';

/** Log lines Powertools wrote (it writes JSON lines to stdout and stderr). */
function captureLogs(): Record<string, unknown>[] {
  const lines: Record<string, unknown>[] = [];
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      for (const line of String(chunk).split('\n')) {
        if (line.startsWith('{')) lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      return true;
    });
  }
  return lines;
}

function setup(overrides: Partial<Deps> = {}) {
  const built = makeApp(overrides);
  const measures: RequestMeasure[] = [];
  let composed = 0;
  const handler = createApiHandler({
    logger: new PowertoolsLogger({ serviceName: 'adclick-api-test' }),
    metrics: { record: (m) => measures.push(m) },
    compose: (): App => {
      composed++;
      return built.app;
    },
  });
  return { ...built, handler, measures, composedCount: () => composed };
}

const bodyOf = (result: { body: string }) => JSON.parse(result.body) as Record<string, unknown>;

afterEach(() => {
  vi.restoreAllMocks();
});

describe('API Gateway handler', () => {
  it('answers POST /predict with 200 and the prediction, logged by the shared route table', async () => {
    // Prepare
    const { handler, ports } = setup();

    // Act
    const result = await handler(apiEvent('post-predict.json'), lambdaContext());

    // Assess
    expect(result.statusCode).toBe(200);
    expect(result.headers?.['content-type']).toBe('application/json');
    const body = bodyOf(result);
    expect(body.ad_id).toBe('ad_7');
    expect(body.probability).toBeGreaterThan(0);
    expect(ports.predictions.records.size).toBe(1);
  });

  it('returns 400 problem+json naming ad_id when ad_id is missing', async () => {
    const { handler } = setup();
    const event = withBody(apiEvent('post-predict.json'), JSON.stringify({ user_id: 'u_42' }));

    const result = await handler(event, lambdaContext());

    expect(result.statusCode).toBe(400);
    expect(result.headers?.['content-type']).toBe(PROBLEM_CONTENT_TYPE);
    const errors = bodyOf(result).errors as { path: string }[];
    expect(errors.map((e) => e.path)).toContain('ad_id');
  });

  it('returns 400 when the body is not valid JSON', async () => {
    const { handler } = setup();
    const event = withBody(apiEvent('post-predict.json'), '{"user_id": "u_42",');

    const result = await handler(event, lambdaContext());

    expect(result.statusCode).toBe(400);
    expect(bodyOf(result).errors).toEqual([{ path: '(body)', message: 'is not valid JSON' }]);
  });

  it('decodes a base64 body before parsing it', async () => {
    const { handler } = setup();

    const result = await handler(apiEvent('post-predict-base64.json'), lambdaContext());

    expect(result.statusCode).toBe(200);
    expect(bodyOf(result).ad_id).toBe('ad_8');
  });

  it('returns 404 problem+json for a path no route serves', async () => {
    const { handler } = setup();
    const event = apiEvent('get-health.json', { path: '/no/such/route', resource: '/{proxy+}' });

    const result = await handler(event, lambdaContext());

    expect(result.statusCode).toBe(404);
    expect(result.headers?.['content-type']).toBe(PROBLEM_CONTENT_TYPE);
  });

  it('returns 405 with Allow for a method the path does not take', async () => {
    const { handler } = setup();
    const event = apiEvent('post-predict.json', { httpMethod: 'GET', body: null });

    const result = await handler(event, lambdaContext());

    expect(result.statusCode).toBe(405);
    expect(result.headers?.allow).toBe('POST');
  });

  it('returns 413 for a body over the limit, before parsing it', async () => {
    const { handler, ports } = setup();
    const big = JSON.stringify({ user_id: 'u_42', ad_id: 'ad_7', pad: 'x'.repeat(MAX_BODY_BYTES) });

    const result = await handler(withBody(apiEvent('post-predict.json'), big), lambdaContext());

    expect(result.statusCode).toBe(413);
    expect(ports.model.calls).toHaveLength(0);
  });

  it('returns 413 for a base64 body that decodes to more than the limit', async () => {
    const { handler } = setup();
    const big = Buffer.from(JSON.stringify({ pad: 'x'.repeat(MAX_BODY_BYTES) })).toString('base64');

    const result = await handler(apiEvent('post-predict-base64.json', { body: big }), lambdaContext());

    expect(result.statusCode).toBe(413);
  });

  it('returns 415 for a JSON route sent another content type', async () => {
    const { handler } = setup();
    const event = withBody(
      apiEvent('post-predict.json'),
      'user_id=u_42&ad_id=ad_7',
      'application/x-www-form-urlencoded',
    );

    const result = await handler(event, lambdaContext());

    expect(result.statusCode).toBe(415);
  });

  it('answers an internal failure with a bare 500 and logs it with the request ids', async () => {
    // Prepare
    const secret = 'connect ECONNREFUSED 10.0.3.17:6379 table adclick-prod-ads';
    const { handler } = setup({
      ads: {
        get: async () => {
          throw new Error(secret);
        },
        put: async () => {
          throw new Error(secret);
        },
        getMany: async () => {
          throw new Error(secret);
        },
      },
    });
    const logs = captureLogs();
    const event = apiEvent('put-ad.json', { httpMethod: 'GET', body: null });

    // Act
    const result = await handler(event, lambdaContext('11111111-2222-4333-8444-555555555555'));

    // Assess
    vi.restoreAllMocks();
    expect(result.statusCode).toBe(500);
    expect(result.body).not.toContain('10.0.3.17');
    expect(result.body).not.toContain('adclick-prod-ads');
    expect(bodyOf(result).type).toBe('urn:adclick:problem:internal');
    const logged = logs.find((l) => l.message === 'unhandled error');
    expect(logged?.function_request_id).toBe('11111111-2222-4333-8444-555555555555');
    expect(logged?.apigw_request_id).toBe(event.requestContext.requestId);
  });

  it('validates the query parameters of an analytics route', async () => {
    const { handler, ports } = setup();
    const ok = apiEvent('get-analytics-ad-performance.json');
    const reversed = apiEvent('get-analytics-ad-performance.json', {
      queryStringParameters: { from: '2026-12-04T00:00:00Z', to: '2026-12-01T00:00:00Z' },
    });
    const unknown = apiEvent('get-analytics-ad-performance.json', {
      queryStringParameters: { ...ok.queryStringParameters, colour: 'blue' },
    });

    const good = await handler(ok, lambdaContext());
    const bad = await handler(reversed, lambdaContext());
    const extra = await handler(unknown, lambdaContext());

    expect(good.statusCode).toBe(200);
    expect(ports.analytics.queries).toHaveLength(1);
    expect(ports.analytics.queries[0]!.query).toMatchObject({ granularity: 'hour' });
    expect(bad.statusCode).toBe(400);
    expect((bodyOf(bad).errors as { path: string }[]).map((e) => e.path)).toContain('to');
    expect(extra.statusCode).toBe(400);
  });

  it('serves an admin route signed with IAM without asking for the bearer token', async () => {
    const { handler, ports } = setup();
    const event = apiEvent('put-ad.json');
    expect(event.headers.Authorization).toMatch(/^AWS4-HMAC-SHA256 /);

    const result = await handler(event, lambdaContext());

    expect(result.statusCode).toBe(200);
    expect(ports.ads.ads.get('ad_7')?.advertiser_id).toBe('adv_3');
  });

  it('refuses with 403 an admin route API Gateway did not authorise with IAM', async () => {
    // A method left without AWS_IAM authorisation in the stack must not open the admin API.
    const { handler, ports } = setup();
    const signed = apiEvent('put-ad.json');
    const event = {
      ...signed,
      requestContext: { ...signed.requestContext, identity: apiEvent('get-health.json').requestContext.identity },
    };

    const result = await handler(event, lambdaContext());

    expect(result.statusCode).toBe(403);
    expect(ports.ads.ads.size).toBe(0);
  });

  it('serves the open health route with no identity at all', async () => {
    const { handler } = setup();

    const result = await handler(apiEvent('get-health.json'), lambdaContext());

    expect(result.statusCode).toBe(200);
    expect(bodyOf(result).status).toBe('ok');
  });

  it('answers HEAD with the headers of GET and no body', async () => {
    const { handler } = setup();

    const result = await handler(apiEvent('get-health.json', { httpMethod: 'HEAD' }), lambdaContext());

    expect(result.statusCode).toBe(200);
    expect(result.body).toBe('');
  });

  it('builds the App once per container, not per request', async () => {
    const { handler, composedCount } = setup();

    await handler(apiEvent('get-health.json'), lambdaContext());
    await handler(apiEvent('post-predict.json'), lambdaContext());

    expect(composedCount()).toBe(1);
  });

  it('reports latency per operation and counts fallback predictions', async () => {
    const { handler, ports, measures } = setup();
    ports.model.fallback = true;

    await handler(apiEvent('post-predict.json'), lambdaContext());
    await handler(apiEvent('get-health.json', { path: '/nowhere' }), lambdaContext());

    expect(measures.map((m) => [m.operation, m.status, m.fallbacks])).toEqual([
      ['predict', 200, 1],
      ['unrouted', 404, 0],
    ]);
    expect(measures.every((m) => m.latencyMs >= 0)).toBe(true);
  });

  it('answers 500 when the App cannot be built, and tries again at the next invoke', async () => {
    const built = makeApp();
    let attempts = 0;
    const handler = createApiHandler({
      logger: new PowertoolsLogger({ serviceName: 'adclick-api-test', logLevel: 'SILENT' }),
      compose: () => {
        attempts++;
        if (attempts === 1) throw new Error('secret manager unreachable at 10.0.0.9');
        return built.app;
      },
    });

    const first = await handler(apiEvent('get-health.json'), lambdaContext());
    const second = await handler(apiEvent('get-health.json'), lambdaContext());

    expect(first.statusCode).toBe(500);
    expect(first.body).not.toContain('10.0.0.9');
    expect(second.statusCode).toBe(200);
  });
});
