import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { openApiDocument } from '../core/api/openapi.js';
import { ROUTES } from '../core/api/routes.js';
import type { App } from '../core/app.js';
import { VERSION } from '../core/version.js';
import { composeAws, createAwsClients } from './composition.js';
import { parseApiConfig } from './config.js';
import { createGatewayHandler, type GatewayHandler, type GatewayHandlerOptions } from './gateway-handler.js';
import { powertoolsMetrics } from './observability.js';

export type ApiHandlerOptions = Omit<GatewayHandlerOptions<App>, 'routes' | 'documents'>;

export type ApiHandler = GatewayHandler;

/**
 * The API function: every route of the one route table, and `/openapi.json`. (The predict routes
 * are also served by their own function, predict.ts, which API Gateway sends them to.)
 */
export function createApiHandler(options: ApiHandlerOptions): ApiHandler {
  // Built at its first request, once per container: building it costs tens of milliseconds that
  // a cold start should not pay.
  let openApiJson: string | undefined;
  const documents = new Map([
    [
      '/openapi.json',
      {
        contentType: 'application/json',
        body: () => {
          openApiJson ??= JSON.stringify(openApiDocument(ROUTES, VERSION));
          return openApiJson;
        },
      },
    ],
  ]);
  return createGatewayHandler({ ...options, routes: ROUTES, documents });
}

const powertools = new PowertoolsLogger({ serviceName: 'adclick-api' });
const tracer = new Tracer({ serviceName: 'adclick-api' });

/**
 * The deployed handler: configuration is parsed from the environment at the first invoke, then
 * the AWS adapters and the App are built once. A missing or malformed variable fails every invoke
 * with a bare 500 and an error log line whose ConfigError names each variable at fault (the
 * serverErrors metric counts them); no value is ever echoed.
 */
export const handler: ApiHandler = createApiHandler({
  logger: powertools,
  metrics: powertoolsMetrics(),
  tracer,
  compose: async (logger) => {
    const config = parseApiConfig(process.env);
    return (await composeAws(config, logger, createAwsClients(config, logger, tracer), tracer)).app;
  },
});
