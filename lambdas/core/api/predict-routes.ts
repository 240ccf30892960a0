import type { App } from '../app.js';
import { PredictBatchRequest, PredictBatchResponse, Prediction, PredictRequest } from '../schemas/predict.js';
import { AD_SERVER, BAD, problem } from './responses.js';
import type { Route } from './route.js';

/** What the predict routes need of the App: the predict function builds only this (handlers/predict.ts). */
export type PredictApp = Pick<App, 'predict'>;

/**
 * The ad server's hot path, apart from the rest of the route table so that the function serving it
 * in AWS loads only these schemas and this use case (its cold start is the one an ad request waits
 * for). The one route table (routes.ts) includes them.
 */
export const PREDICT_ROUTES: readonly Route<PredictApp>[] = [
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
];
