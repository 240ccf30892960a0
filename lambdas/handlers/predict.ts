import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { PREDICT_ROUTES, type PredictApp } from '../core/api/predict-routes.js';
import { createGatewayHandler, type GatewayHandler, type GatewayHandlerOptions } from './gateway-handler.js';
import { powertoolsMetrics } from './observability.js';
import { composePredict, createPredictClients } from './predict-composition.js';
import { parsePredictConfig } from './predict-config.js';

export type PredictHandlerOptions = Omit<GatewayHandlerOptions<PredictApp>, 'routes' | 'documents'>;

/**
 * The predict function: `POST /predict` and `POST /predict/batch` only, the ad server's hot path.
 * Apart from the API function so that its cold start loads no more than a prediction needs (no
 * Kinesis, Athena or SageMaker control plane, not the other routes' schemas), and so that it can
 * be given its own concurrency (provisioned, reserved) and alarms.
 */
export function createPredictHandler(options: PredictHandlerOptions): GatewayHandler {
  return createGatewayHandler({ ...options, routes: PREDICT_ROUTES });
}

const powertools = new PowertoolsLogger({ serviceName: 'adclick-predict' });

/**
 * The deployed handler: configuration is parsed from the environment at the first invoke, then
 * the adapters are built once. A missing or malformed variable fails every invoke with a bare 500
 * and an error log line whose ConfigError names each variable at fault; no value is ever echoed.
 *
 * No Powertools Tracer here: the X-Ray SDK it loads is 6 % of this function's cold start, the one
 * an ad request waits for. Lambda's active tracing still records each invocation and its init;
 * each prediction's model latency is in the prediction log (`model_latency_ms`) and the request
 * latency in the metrics. The API function, off the ad server's path, traces every AWS call.
 */
export const handler: GatewayHandler = createPredictHandler({
  logger: powertools,
  metrics: powertoolsMetrics(new Metrics({ serviceName: 'adclick-predict' })),
  compose: async (logger) => {
    const config = parsePredictConfig(process.env);
    return (await composePredict(config, logger, createPredictClients(config, logger))).app;
  },
});
