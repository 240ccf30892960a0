import type { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { Router } from '../core/api/dispatch.js';
import {
  createHttpAdapter,
  type HttpRequest,
  type HttpResponse,
  type StaticDocument,
} from '../core/api/http-adapter.js';
import { toProblem } from '../core/api/problem.js';
import type { Route } from '../core/api/route.js';
import type { Logger } from '../core/ports.js';
import { requestFromEvent, resultFromResponse, trustApiGateway } from './apigateway.js';
import { coreLogger, type RequestMetrics, traced } from './observability.js';

export interface GatewayHandlerOptions<A> {
  /** The routes this function serves; API Gateway sends it no others. */
  readonly routes: readonly Route<A>[];
  /**
   * Builds what the routes need once per container, at the first invoke (the composition seam:
   * AWS adapters in production, in-memory ports in tests). `logger` is the handler's, carrying
   * the request id. A rejection is not remembered: the next invoke tries again.
   */
  readonly compose: (logger: Logger) => Promise<A> | A;
  readonly logger: PowertoolsLogger;
  readonly metrics?: RequestMetrics;
  /** X-Ray through Powertools Tracer; each invoke is a subsegment (see `traced`). */
  readonly tracer?: Tracer;
  /** Documents served beside the routes, by exact path (the API function's `/openapi.json`). */
  readonly documents?: ReadonlyMap<string, StaticDocument>;
}

export type GatewayHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

const predictionsIn = (response: HttpResponse): number => {
  const value = response.value as { fallback?: unknown; predictions?: { fallback?: unknown }[] } | undefined;
  if (response.operationId === 'predict') return value?.fallback === true ? 1 : 0;
  if (response.operationId === 'predictBatch')
    return value?.predictions?.filter((p) => p.fallback === true).length ?? 0;
  return 0;
};

/**
 * An API Gateway (REST, proxy integration) entry point over a route table: the event becomes a
 * transport-neutral request, the shared HTTP mapping answers it (the same code the local server
 * runs), and the answer becomes the proxy result. Nothing thrown escapes: a failure to build the
 * App or to read the event is a logged, bare 500.
 */
export function createGatewayHandler<A>(options: GatewayHandlerOptions<A>): GatewayHandler {
  const { logger: powertools, metrics, tracer } = options;
  const logger = coreLogger(powertools);
  const router = new Router(options.routes);
  let adapter: Promise<(req: HttpRequest) => Promise<HttpResponse>> | undefined;
  const ready = () => {
    adapter ??= (async () => {
      const app = await options.compose(logger);
      return createHttpAdapter({
        app,
        router,
        logger,
        authorise: trustApiGateway,
        ...(options.documents ? { documents: options.documents } : {}),
      });
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
