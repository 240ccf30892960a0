import type * as z from 'zod';
import { PredictBatchRequest, PredictBatchResponse, Prediction, PredictRequest } from '../schemas/predict.js';
import { PREDICT_ROUTES, type PredictApp } from './predict-routes.js';
import type { Route } from './route.js';

/** Each predict route's zod contract: its body and its 200. */
const CONTRACTS: Readonly<Record<string, { body: z.ZodType; ok: z.ZodType }>> = {
  predict: { body: PredictRequest, ok: Prediction },
  predictBatch: { body: PredictBatchRequest, ok: PredictBatchResponse },
};

/**
 * The predict routes with their zod contract attached, for the one route table (the OpenAPI
 * document, API Gateway's request models, the API function and the local server). Validation
 * stays the routes' own zod-free `parse`, so that every deployment refuses a bad body alike.
 */
export const DOCUMENTED_PREDICT_ROUTES: readonly Route<PredictApp>[] = PREDICT_ROUTES.map((route) => {
  const contract = CONTRACTS[route.operationId];
  if (!contract || route.body?.kind !== 'json') throw new Error(`no contract for ${route.operationId}`);
  return {
    ...route,
    body: { ...route.body, schema: contract.body },
    responses: { ...route.responses, 200: { ...route.responses[200]!, schema: contract.ok } },
  };
});
