import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { Tracer } from '@aws-lambda-powertools/tracer';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { Router } from '../core/api/dispatch.js';
import { createHttpAdapter, type HttpRequest, type HttpResponse } from '../core/api/http-adapter.js';
import { openApiDocument } from '../core/api/openapi.js';
import { toProblem } from '../core/api/problem.js';
import { ROUTES } from '../core/api/routes.js';
import type { App } from '../core/app.js';
import type { Logger } from '../core/ports.js';
import { VERSION } from '../core/version.js';
import { requestFromEvent, resultFromResponse, trustApiGateway } from './apigateway.js';
import { composeAws, createAwsClients } from './composition.js';
import { parseApiConfig } from './config.js';
import { coreLogger, powertoolsMetrics, type RequestMetrics, traced } from './observability.js';

export interface ApiHandlerOptions {
  /**
   * Builds the App once per container, at the first invoke (the composition seam: AWS adapters in
   * production, in-memory ports in tests). `logger` is the handler's, carrying the request id.
   * A rejection is not remembered: the next invoke tries again.
   */
  readonly compose: (logger: Logger) => Promise<App> | App;
  readonly logger: PowertoolsLogger;
  readonly metrics?: RequestMetrics;
  /** X-Ray through Powertools Tracer; each invoke is a subsegment (see `traced`). */
  readonly tracer?: Tracer;
}

export type ApiHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

const predictionsIn = (response: HttpResponse): number => {
  const value = response.value as { fallback?: unknown; predictions?: { fallback?: unknown }[] } | undefined;
  if (response.operationId === 'predict') return value?.fallback === true ? 1 : 0;
  if (response.operationId === 'predictBatch')
    return value?.predictions?.filter((p) => p.fallback === true).length ?? 0;
  return 0;
};

/**
 * The API Gateway (REST, proxy integration) entry point over the shared route table: the event
 * becomes a transport-neutral request, the shared HTTP mapping answers it (the same code the
 * local server runs), and the answer becomes the proxy result. Nothing thrown escapes: a failure
 * to build the App or to read the event is a logged, bare 500.
 */
export function createApiHandler(options: ApiHandlerOptions): ApiHandler {
  const { logger: powertools, metrics, tracer } = options;
  const logger = coreLogger(powertools);
  const router = new Router(ROUTES);
  // Built at its first request, once per container: building it costs tens of milliseconds that
  // a cold start of /predict should not pay.
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
  let adapter: Promise<(req: HttpRequest) => Promise<HttpResponse>> | undefined;
  const ready = () => {
    adapter ??= (async () => {
      const app = await options.compose(logger);
      return createHttpAdapter({ app, router, logger, documents, authorise: trustApiGateway });
    })();
    adapter.catch(() => {
      adapter = undefined;
    });
    return adapter;
  };

  return async (event, context) => {
    const started = performance.now();
    powertools.addContext(context);
    powertools.appendKeys({ apigw_request_id: event.requestContext?.requestId });
    try {
      let response: HttpResponse;
      try {
        const respond = await ready();
        response = await traced(tracer, 'api', async () => {
          const answer = await respond(requestFromEvent(event));
          // On the handler's subsegment: X-Ray refuses annotations on Lambda's own segment.
          if (answer.operationId) tracer?.putAnnotation('operation', answer.operationId);
          return answer;
        });
      } catch (err) {
        logger.error('request failed before routing', { error: (err as Error)?.name, stack: (err as Error)?.stack });
        const problem = toProblem(err);
        response = { status: problem.status, headers: problem.headers, body: JSON.stringify(problem.body), error: err };
      }
      metrics?.record({
        operation: response.operationId ?? 'unrouted',
        status: response.status,
        latencyMs: performance.now() - started,
        fallbacks: predictionsIn(response),
      });
      return resultFromResponse(response, event.httpMethod);
    } finally {
      powertools.resetKeys();
    }
  };
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
