/**
 * The functions' side of DESIGN.md "Access", driven by the route table: API Gateway checks API
 * keys and SigV4 (test/infra/serving-stack.test.ts asserts every method carries them), and the
 * functions refuse (403) any call the gateway did not authorise for the route's level, so a
 * method left without its authorisation in the stack fails closed. Every guarded route of both
 * functions, with no identity and with the other level's identity.
 */
import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { PREDICT_ROUTES } from '../../../lambdas/core/api/predict-routes.js';
import type { Route } from '../../../lambdas/core/api/route.js';
import { ROUTES } from '../../../lambdas/core/api/routes.js';
import { createApiHandler } from '../../../lambdas/handlers/api.js';
import { createPredictHandler } from '../../../lambdas/handlers/predict.js';
import { makeApp } from '../../support/memory-ports.js';
import { apiEvent, lambdaContext } from './api-gateway-events.js';

/** The identities of the recorded events: none, an API key of a usage plan, an IAM principal. */
const IDENTITY = {
  none: apiEvent('get-health.json').requestContext.identity,
  'an API key': apiEvent('post-predict.json').requestContext.identity,
  'an IAM principal': apiEvent('put-ad.json').requestContext.identity,
} as const;

/** The identities that must not open a route of this access level. */
const refusedIdentities = (route: Route<never>): (keyof typeof IDENTITY)[] =>
  route.access === 'admin' ? ['none', 'an API key'] : ['none', 'an IAM principal'];

/** An event for the route (params filled in, a JSON body for writes) as the gateway would pass it with `identity`. */
function eventFor(route: Route<never>, identity: APIGatewayProxyEvent['requestContext']['identity']) {
  const base = apiEvent('get-health.json');
  const params = Object.fromEntries([...route.path.matchAll(/\{(\w+)\}/g)].map((m) => [m[1]!, 'route-access-param']));
  const path = route.path.replace(/\{\w+\}/g, 'route-access-param');
  const body = route.method === 'GET' ? null : '{}';
  const headers = { ...base.headers, ...(body === null ? {} : { 'Content-Type': 'application/json' }) };
  return {
    ...base,
    httpMethod: route.method,
    resource: route.path,
    path,
    pathParameters: Object.keys(params).length > 0 ? params : null,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v as string]])),
    body,
    isBase64Encoded: false,
    requestContext: { ...base.requestContext, httpMethod: route.method, resourcePath: route.path, identity },
  } satisfies APIGatewayProxyEvent;
}

const logger = new PowertoolsLogger({ serviceName: 'adclick-route-access-test', logLevel: 'SILENT' });

describe.each([
  [
    'the API function',
    ROUTES,
    (app: ReturnType<typeof makeApp>['app']) => createApiHandler({ logger, compose: () => app }),
  ],
  [
    'the predict function',
    PREDICT_ROUTES,
    (app: ReturnType<typeof makeApp>['app']) => createPredictHandler({ logger, compose: () => app }),
  ],
] as const)('%s refuses what API Gateway did not authorise', (_, routes, handlerOver) => {
  const guarded = routes.filter((r) => r.access !== 'open').map((r) => [`${r.method} ${r.path}`, r] as const);

  it('has routes to check', () => {
    expect(guarded.length).toBeGreaterThan(0);
  });

  it.each(guarded)('refuses %s (403 problem+json) and changes nothing', async (_, route) => {
    // Prepare
    const { app, ports } = makeApp();
    const handler = handlerOver(app);

    // Act
    const results = [];
    for (const name of refusedIdentities(route)) {
      results.push([name, await handler(eventFor(route, IDENTITY[name]), lambdaContext())] as const);
    }
    // a control: the route's own identity gets past access control (whatever the route then answers)
    const own = route.access === 'admin' ? IDENTITY['an IAM principal'] : IDENTITY['an API key'];
    const control = await handler(eventFor(route, own), lambdaContext());

    // Assess
    for (const [name, result] of results) {
      expect(result.statusCode, name).toBe(403);
      expect(result.headers?.['content-type'], name).toBe('application/problem+json');
    }
    expect(ports.predictions.records.size).toBe(0);
    expect(ports.ads.ads.size).toBe(0);
    expect(control.statusCode).not.toBe(403);
  });
});

describe('the log line of an unhandled error', () => {
  it('names the route template, never the request path (a path can hold a raw user id)', async () => {
    // Prepare
    const raw = 'raw-user-id-in-a-path-4e7a';
    const failing = async () => {
      throw new Error('store down');
    };
    const { app } = makeApp({ ads: { get: failing, put: failing, getMany: failing } });
    const lines: string[] = [];
    for (const stream of [process.stdout, process.stderr]) {
      vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
        lines.push(String(chunk));
        return true;
      });
    }
    const handler = createApiHandler({
      logger: new PowertoolsLogger({ serviceName: 'adclick-route-access-test' }),
      compose: () => app,
    });
    const route = ROUTES.find((r) => r.method === 'GET' && r.path === '/ads/{ad_id}')!;
    const event = eventFor(route, IDENTITY['an IAM principal']);

    // Act
    const result = await handler({ ...event, path: `/ads/${raw}`, pathParameters: { ad_id: raw } }, lambdaContext());
    vi.restoreAllMocks();

    // Assess
    expect(result.statusCode).toBe(500);
    const logged = lines.join('');
    expect(logged).toContain('unhandled error');
    expect(logged).toContain('/ads/{ad_id}');
    expect(logged).not.toContain(raw);
  });
});
