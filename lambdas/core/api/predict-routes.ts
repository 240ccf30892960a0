import type { App } from '../app.js';
import { parsePredictBatchRequest, parsePredictRequest } from '../schemas/predict-validation.js';
import { AD_SERVER, BAD, problem } from './responses.js';
import type { Route } from './route.js';

/** What the predict routes need of the App: the predict function builds only this (handlers/predict.ts). */
export type PredictApp = Pick<App, 'predict'>;

/**
 * The ad server's hot path, apart from the rest of the route table so that the function serving it
 * in AWS loads only this use case and no zod: bodies are checked by schemas/predict-validation.ts,
 * proven equivalent to the zod contract, and the one route table (routes.ts) takes these routes
 * documented with that contract (predict-route-docs.ts). The local server and the API function
 * validate with the same code, so every deployment answers a bad request alike.
 */
export const PREDICT_ROUTES: readonly Route<PredictApp>[] = [
  {
    method: 'POST',
    path: '/predict',
    operationId: 'predict',
    summary: 'Click probability of one ad for one user.',
    tag: 'predict',
    access: 'ad-server',
    body: { kind: 'json', parse: parsePredictRequest },
    responses: {
      200: { description: 'The prediction.' },
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
    body: { kind: 'json', parse: parsePredictBatchRequest },
    responses: {
      200: { description: 'One prediction per ad, same order.' },
      ...BAD,
      ...AD_SERVER,
      409: problem('request_id reused for a different request.'),
      503: problem('No model is active.'),
    },
    handle: async (app, req) => ({ status: 200, body: { predictions: await app.predict.predictBatch(req.body) } }),
  },
];
