import * as z from 'zod';
import { Ad, AdIdParams, AdUpsert } from '../schemas/ads.js';
import {
  AdPerformanceParams,
  AdPerformanceResponse,
  FraudParams,
  FraudResponse,
  ModelsAnalyticsResponse,
  ModelsParams,
  UserSegmentsParams,
  UserSegmentsResponse,
} from '../schemas/analytics.js';
// The OpenAPI extension of zod is applied there; it must run before any schema is built.
import '../schemas/common.js';
import {
  ClickEvent,
  EventAccepted,
  EventBatchRequest,
  EventBatchResponse,
  ImpressionEvent,
} from '../schemas/events.js';
import {
  ActivateRequest,
  ModelIdParams,
  ModelRecord,
  ModelUploadRequest,
  ModelUploadResponse,
} from '../schemas/models.js';
import { PredictBatchRequest, PredictBatchResponse, Prediction, PredictRequest } from '../schemas/predict.js';
import type { Route } from './route.js';

/** Largest model artifact (a tar.gz of the model folder) a local upload accepts. */
export const MAX_ARTIFACT_BYTES = 64 * 1024 * 1024;

const Health = z
  .object({
    status: z.enum(['ok', 'degraded', 'down']),
    dependencies: z.record(z.string(), z.object({ status: z.string(), detail: z.string().optional() })),
  })
  .openapi('Health');

const problem = (description: string) => ({ description });
const BAD = { 400: problem('Invalid input (problem+json names each field).') };
const ADMIN = { 401: problem('Missing or wrong bearer token.') };
const AD_SERVER = { 401: problem('Missing or unknown API key.') };

/**
 * The one route table. The local server and the Lambda handlers both dispatch through it, so a
 * route, its validation and its error mapping exist once.
 */
export const ROUTES: readonly Route[] = [
  {
    method: 'POST',
    path: '/predict',
    operationId: 'predict',
    summary: 'Click probability of one ad for one user.',
    tag: 'predict',
    access: 'ad-server',
    body: { kind: 'json', schema: PredictRequest },
    responses: {
      200: { description: 'The prediction.', schema: Prediction },
      ...BAD,
      ...AD_SERVER,
      409: problem('request_id reused for a different request.'),
      503: problem('No model is active.'),
    },
    handle: async (app, req) => ({ status: 200, body: await app.predict.predict(req.body) }),
  },
  {
    method: 'POST',
    path: '/predict/batch',
    operationId: 'predictBatch',
    summary: 'Click probabilities of up to 500 candidate ads for one user, in request order.',
    tag: 'predict',
    access: 'ad-server',
    body: { kind: 'json', schema: PredictBatchRequest },
    responses: {
      200: { description: 'One prediction per ad, same order.', schema: PredictBatchResponse },
      ...BAD,
      ...AD_SERVER,
      409: problem('request_id reused for a different request.'),
      503: problem('No model is active.'),
    },
    handle: async (app, req) => ({ status: 200, body: { predictions: await app.predict.predictBatch(req.body) } }),
  },
  {
    method: 'POST',
    path: '/event/impression',
    operationId: 'recordImpression',
    summary: 'Record an impression; acknowledged once durable; a replayed impression_id is counted once.',
    tag: 'events',
    access: 'ad-server',
    body: { kind: 'json', schema: ImpressionEvent },
    responses: { 202: { description: 'Durably recorded.', schema: EventAccepted }, ...BAD, ...AD_SERVER },
    handle: async (app, req) => ({ status: 202, body: await app.events.impression(req.body) }),
  },
  {
    method: 'POST',
    path: '/event/click',
    operationId: 'recordClick',
    summary: 'Record a click; acknowledged once durable; a replayed click_id is counted once.',
    tag: 'events',
    access: 'ad-server',
    body: { kind: 'json', schema: ClickEvent },
    responses: { 202: { description: 'Durably recorded.', schema: EventAccepted }, ...BAD, ...AD_SERVER },
    handle: async (app, req) => ({ status: 202, body: await app.events.click(req.body) }),
  },
  {
    method: 'POST',
    path: '/event/batch',
    operationId: 'recordEvents',
    summary: 'Record up to 500 impressions and clicks; each event gets its own result.',
    tag: 'events',
    access: 'ad-server',
    body: { kind: 'json', schema: EventBatchRequest },
    responses: { 200: { description: 'Per-event results.', schema: EventBatchResponse }, ...BAD, ...AD_SERVER },
    handle: async (app, req) => ({ status: 200, body: { results: await app.events.batch(req.body.events) } }),
  },
  {
    method: 'PUT',
    path: '/ads/{ad_id}',
    operationId: 'putAd',
    summary: 'Create or replace an ad in the catalogue.',
    tag: 'ads',
    access: 'admin',
    params: AdIdParams,
    body: { kind: 'json', schema: AdUpsert },
    responses: { 200: { description: 'The stored ad.', schema: Ad }, ...BAD, ...ADMIN },
    handle: async (app, req) => ({ status: 200, body: await app.ads.put(req.params.ad_id, req.body) }),
  },
  {
    method: 'GET',
    path: '/ads/{ad_id}',
    operationId: 'getAd',
    summary: 'An ad from the catalogue.',
    tag: 'ads',
    access: 'admin',
    params: AdIdParams,
    responses: { 200: { description: 'The ad.', schema: Ad }, ...ADMIN, 404: problem('Unknown ad.') },
    handle: async (app, req) => ({ status: 200, body: await app.ads.get(req.params.ad_id) }),
  },
  {
    method: 'GET',
    path: '/model/active',
    operationId: 'getActiveModel',
    summary: 'The champion model.',
    tag: 'models',
    access: 'admin',
    responses: {
      200: { description: 'The champion.', schema: ModelRecord },
      ...ADMIN,
      404: problem('No model is active.'),
    },
    handle: async (app) => ({ status: 200, body: await app.models.active() }),
  },
  {
    method: 'GET',
    path: '/models',
    operationId: 'listModels',
    summary: 'Every registered model, newest first.',
    tag: 'models',
    access: 'admin',
    responses: { 200: { description: 'The models.', schema: z.object({ models: z.array(ModelRecord) }) }, ...ADMIN },
    handle: async (app) => ({ status: 200, body: { models: await app.models.list() } }),
  },
  {
    method: 'GET',
    path: '/models/{id}',
    operationId: 'getModel',
    summary: 'One model with its status, metrics and last gate report.',
    tag: 'models',
    access: 'admin',
    params: ModelIdParams,
    responses: { 200: { description: 'The model.', schema: ModelRecord }, ...ADMIN, 404: problem('Unknown model.') },
    handle: async (app, req) => ({ status: 200, body: await app.models.get(req.params.id) }),
  },
  {
    method: 'POST',
    path: '/model/upload',
    operationId: 'startModelUpload',
    summary: 'Step 1 of an upload: register a version and get the URL to PUT its artifact (tar.gz) to.',
    tag: 'models',
    access: 'admin',
    body: { kind: 'json', schema: ModelUploadRequest },
    responses: {
      201: { description: 'Where to PUT the artifact.', schema: ModelUploadResponse },
      ...BAD,
      ...ADMIN,
      409: problem('The version exists.'),
    },
    handle: async (app, req) => ({ status: 201, body: await app.models.startUpload(req.body, req.baseUrl) }),
  },
  {
    method: 'PUT',
    path: '/model/upload/{id}/artifact',
    operationId: 'putModelArtifact',
    summary: 'Step 2 (local deployments): the artifact body, a tar.gz of the model folder.',
    tag: 'models',
    access: 'admin',
    params: ModelIdParams,
    body: {
      kind: 'binary',
      maxBytes: MAX_ARTIFACT_BYTES,
      contentTypes: ['application/gzip', 'application/octet-stream'],
    },
    responses: {
      200: { description: 'Stored.', schema: z.object({ model_id: z.string(), bytes: z.number().int() }) },
      ...ADMIN,
      404: problem('Unknown model.'),
      409: problem('The upload is complete.'),
      413: problem('Larger than 64 MB.'),
      415: problem('Not application/gzip or application/octet-stream.'),
    },
    handle: async (app, req) => ({ status: 200, body: await app.models.receiveArtifact(req.params.id, req.body) }),
  },
  {
    method: 'POST',
    path: '/model/upload/{id}/complete',
    operationId: 'completeModelUpload',
    summary: 'Step 3: validate the artifact by loading it and register the model as a candidate.',
    tag: 'models',
    access: 'admin',
    params: ModelIdParams,
    responses: {
      200: { description: 'The candidate.', schema: ModelRecord },
      400: problem('The artifact is not a loadable model (the detail says why).'),
      ...ADMIN,
      404: problem('Unknown model.'),
      503: problem('The artifact store is unreachable; retry later.'),
    },
    handle: async (app, req) => ({ status: 200, body: await app.models.completeUpload(req.params.id) }),
  },
  {
    method: 'PUT',
    path: '/model/activate/{id}',
    operationId: 'activateModel',
    summary: 'Make a model the champion if it passes the gate (rollback: activate the previous champion).',
    tag: 'models',
    access: 'admin',
    params: ModelIdParams,
    body: { kind: 'json', schema: ActivateRequest, optional: true },
    responses: {
      200: { description: 'The new champion.', schema: ModelRecord },
      ...BAD,
      ...ADMIN,
      404: problem('Unknown model.'),
      409: problem('The gate refused the model (the numbers are in `gate`).'),
    },
    handle: async (app, req) => ({
      status: 200,
      body: await app.models.activate(req.params.id, req.body?.force === true),
    }),
  },
  {
    method: 'GET',
    path: '/analytics/ad-performance',
    operationId: 'adPerformance',
    summary: 'Impressions, clicks, CTR, mean predicted CTR and calibration per ad and hour or day.',
    tag: 'analytics',
    access: 'admin',
    query: AdPerformanceParams,
    responses: { 200: { description: 'Rows by period, then ad.', schema: AdPerformanceResponse }, ...BAD, ...ADMIN },
    handle: async (app, req) => ({ status: 200, body: await app.analytics.adPerformance(req.query) }),
  },
  {
    method: 'GET',
    path: '/analytics/user-segments',
    operationId: 'userSegments',
    summary: 'Users, impressions, clicks and CTR per device type, location or activity level.',
    tag: 'analytics',
    access: 'admin',
    query: UserSegmentsParams,
    responses: {
      200: { description: 'Segments, most impressions first.', schema: UserSegmentsResponse },
      ...BAD,
      ...ADMIN,
    },
    handle: async (app, req) => ({ status: 200, body: await app.analytics.userSegments(req.query) }),
  },
  {
    method: 'GET',
    path: '/analytics/models',
    operationId: 'modelAnalytics',
    summary: 'Online log loss, AUC, calibration and reliability-diagram bins per model version and variant.',
    tag: 'analytics',
    access: 'admin',
    query: ModelsParams,
    responses: {
      200: { description: 'One entry per model version and variant.', schema: ModelsAnalyticsResponse },
      ...BAD,
      ...ADMIN,
    },
    handle: async (app, req) => ({ status: 200, body: await app.analytics.models(req.query) }),
  },
  {
    method: 'GET',
    path: '/analytics/fraud',
    operationId: 'fraudAnalytics',
    summary: 'Events flagged by the click-fraud rules, per period, rule and site.',
    tag: 'analytics',
    access: 'admin',
    query: FraudParams,
    responses: {
      200: { description: 'Rows by period, rule, then site.', schema: FraudResponse },
      ...BAD,
      ...ADMIN,
    },
    handle: async (app, req) => ({ status: 200, body: await app.analytics.fraud(req.query) }),
  },
  {
    method: 'GET',
    path: '/health',
    operationId: 'health',
    summary: "Each dependency's state.",
    tag: 'operations',
    access: 'open',
    responses: {
      200: { description: 'Healthy or degraded.', schema: Health },
      503: { description: 'A dependency is down.', schema: Health },
    },
    handle: async (app) => {
      const health = await app.health();
      return { status: health.status === 'down' ? 503 : 200, body: health };
    },
  },
];
