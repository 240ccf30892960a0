/**
 * Every route of the shared table, through the API Gateway handler, with real REST proxy event
 * shapes (the recorded fixtures with method, resource, path and identity set per route): the
 * deployed function answers each one as the local server does.
 */
import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { ROUTES } from '../../../lambdas/core/api/routes.js';
import { createApiHandler } from '../../../lambdas/handlers/api.js';
import type { RequestMeasure } from '../../../lambdas/handlers/observability.js';
import { CHAMPION_ID, MemoryArtifactStore, MemoryErasureStore, makeApp } from '../../support/memory-ports.js';
import { apiEvent, lambdaContext } from './api-gateway-events.js';

interface Call {
  readonly method: string;
  readonly resource: string;
  readonly params?: Record<string, string>;
  readonly query?: Record<string, string>;
  readonly body?: string | Uint8Array;
  readonly contentType?: string;
}

/** The recorded event of the route's access level, re-aimed at the route. */
function eventFor(call: Call): APIGatewayProxyEvent {
  const route = ROUTES.find((r) => r.path === call.resource && r.method === call.method)!;
  const fixture =
    route.access === 'admin' ? 'put-ad.json' : route.access === 'ad-server' ? 'post-predict.json' : 'get-health.json';
  const base = apiEvent(fixture);
  const path = call.resource.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(call.params![name]!));
  const binary = call.body instanceof Uint8Array;
  const body =
    call.body === undefined ? null : binary ? Buffer.from(call.body).toString('base64') : (call.body as string);
  const headers: Record<string, string | undefined> = { ...base.headers };
  delete headers['Content-Type'];
  if (call.body !== undefined) headers['Content-Type'] = call.contentType ?? 'application/json';
  return {
    ...base,
    httpMethod: call.method,
    resource: call.resource,
    path,
    pathParameters: call.params ?? null,
    queryStringParameters: call.query ?? null,
    multiValueQueryStringParameters: call.query
      ? Object.fromEntries(Object.entries(call.query).map(([k, v]) => [k, [v]]))
      : null,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, v === undefined ? [] : [v]])),
    body,
    isBase64Encoded: binary,
    requestContext: { ...base.requestContext, httpMethod: call.method, resourcePath: call.resource },
  };
}

const range = { from: '2026-12-01T00:00:00Z', to: '2026-12-05T00:00:00Z' };

describe('the API handler over every route of the table', () => {
  it('answers each route with its success status through a real API Gateway event', async () => {
    // Prepare
    const erasure = {
      store: new MemoryErasureStore(),
      erasers: [],
      schedule: (run: () => Promise<void>) => void run(),
    };
    const { app } = makeApp({ erasure });
    const measures: RequestMeasure[] = [];
    const handler = createApiHandler({
      logger: new PowertoolsLogger({ serviceName: 'adclick-api-test', logLevel: 'SILENT' }),
      metrics: { record: (m) => measures.push(m) },
      compose: () => app,
    });
    const send = async (call: Call) => {
      const result = await handler(eventFor(call), lambdaContext());
      return { status: result.statusCode, body: result.body ? (JSON.parse(result.body) as Record<string, never>) : {} };
    };
    const ad = JSON.stringify({ campaign_id: 'c_1', advertiser_id: 'adv_3', category: 'shoes' });
    const event = { user_id: 'u_1', ad_id: 'ad_7', timestamp: '2026-12-04T09:59:00Z' };
    const answers: Record<string, number> = {};
    const record = (operation: string, status: number) => {
      answers[operation] = status;
    };

    // Act: the life of an ad and a model, one call per route
    record('health', (await send({ method: 'GET', resource: '/health' })).status);
    record(
      'putAd',
      (await send({ method: 'PUT', resource: '/ads/{ad_id}', params: { ad_id: 'ad_7' }, body: ad })).status,
    );
    record('getAd', (await send({ method: 'GET', resource: '/ads/{ad_id}', params: { ad_id: 'ad_7' } })).status);
    const predicted = await send({
      method: 'POST',
      resource: '/predict',
      body: JSON.stringify({ user_id: 'u_1', ad_id: 'ad_7' }),
    });
    record('predict', predicted.status);
    const batch = JSON.stringify({ user_id: 'u_1', ads: [{ ad_id: 'ad_7' }, { ad_id: 'ad_8' }] });
    record('predictBatch', (await send({ method: 'POST', resource: '/predict/batch', body: batch })).status);
    const impression = JSON.stringify({
      ...event,
      impression_id: 'imp_1',
      prediction_id: predicted.body.prediction_id,
    });
    record(
      'recordImpression',
      (await send({ method: 'POST', resource: '/event/impression', body: impression })).status,
    );
    const click = JSON.stringify({
      click_id: 'clk_1',
      impression_id: 'imp_1',
      clicked: true,
      timestamp: '2026-12-04T09:59:30Z',
    });
    record('recordClick', (await send({ method: 'POST', resource: '/event/click', body: click })).status);
    const events = JSON.stringify({ events: [{ type: 'impression', ...event, impression_id: 'imp_2' }] });
    record('recordEvents', (await send({ method: 'POST', resource: '/event/batch', body: events })).status);
    record('getActiveModel', (await send({ method: 'GET', resource: '/model/active' })).status);
    record('listModels', (await send({ method: 'GET', resource: '/models' })).status);
    const upload = await send({
      method: 'POST',
      resource: '/model/upload',
      body: JSON.stringify({ version: 'v-new', metadata: { owner: 'ml' } }),
    });
    record('startModelUpload', upload.status);
    const id = { id: String(upload.body.model_id) };
    const artifact = MemoryArtifactStore.manifest();
    const put = { method: 'PUT', resource: '/model/upload/{id}/artifact', params: id, body: artifact };
    record('putModelArtifact', (await send({ ...put, contentType: 'application/gzip' })).status);
    record(
      'completeModelUpload',
      (await send({ method: 'POST', resource: '/model/upload/{id}/complete', params: id })).status,
    );
    record('getModel', (await send({ method: 'GET', resource: '/models/{id}', params: id })).status);
    record('nameChallenger', (await send({ method: 'PUT', resource: '/model/challenger/{id}', params: id })).status);
    const activate = { method: 'PUT', resource: '/model/activate/{id}', params: id, body: '{"force":true}' };
    record('activateModel', (await send(activate)).status);
    const experiment = JSON.stringify({
      name: 'new vs old',
      variants: [
        { model_id: id.id, weight: 1 },
        { model_id: CHAMPION_ID, weight: 1 },
      ],
    });
    const started = await send({ method: 'POST', resource: '/experiments', body: experiment });
    record('createExperiment', started.status);
    const experimentId = { id: String(started.body.experiment_id) };
    record(
      'listExperiments',
      (await send({ method: 'GET', resource: '/experiments', query: { status: 'running' } })).status,
    );
    record(
      'getExperiment',
      (await send({ method: 'GET', resource: '/experiments/{id}', params: experimentId })).status,
    );
    record(
      'stopExperiment',
      (await send({ method: 'PUT', resource: '/experiments/{id}/stop', params: experimentId })).status,
    );
    record(
      'adPerformance',
      (await send({ method: 'GET', resource: '/analytics/ad-performance', query: range })).status,
    );
    record(
      'userSegments',
      (
        await send({
          method: 'GET',
          resource: '/analytics/user-segments',
          query: { ...range, dimension: 'device_type' },
        })
      ).status,
    );
    record('modelAnalytics', (await send({ method: 'GET', resource: '/analytics/models', query: range })).status);
    record('fraudAnalytics', (await send({ method: 'GET', resource: '/analytics/fraud', query: range })).status);
    const erased = await send({ method: 'DELETE', resource: '/users/{user_id}', params: { user_id: 'u_1' } });
    record('eraseUser', erased.status);
    const erasureId = { id: String(erased.body.erasure_id) };
    record('getErasure', (await send({ method: 'GET', resource: '/erasures/{id}', params: erasureId })).status);

    // Assess: every route of the table was called, routed to its operation, and succeeded
    const expected = Object.fromEntries(
      ROUTES.map((r) => [r.operationId, Number(Object.keys(r.responses).find((s) => s.startsWith('2')))]),
    );
    expect(answers).toEqual(expected);
    expect(measures.map((m) => m.operation).sort()).toEqual(ROUTES.map((r) => r.operationId).sort());
  });
});
