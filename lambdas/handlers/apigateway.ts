import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { Authorise, HttpRequest, HttpResponse } from '../core/api/http-adapter.js';
import type { Access } from '../core/api/route.js';
import { ForbiddenError } from '../core/errors.js';

/**
 * What API Gateway (REST, proxy integration, payload v1) says it authorised, from
 * `requestContext.identity`: an API key of a usage plan (ad-server routes) or an IAM principal
 * from a SigV4 signature (admin routes). The gateway fills these only after checking them.
 */
function authorisedUpstream(event: APIGatewayProxyEvent): Access[] {
  const identity = event.requestContext?.identity;
  const levels: Access[] = [];
  if (identity?.apiKeyId || identity?.apiKey) levels.push('ad-server');
  if (identity?.userArn) levels.push('admin');
  return levels;
}

/** An API Gateway v1 proxy event as the shared HTTP mapping's request. */
export function requestFromEvent(event: APIGatewayProxyEvent): HttpRequest {
  const headers: Record<string, string> = {};
  // API Gateway keeps the client's header case; `headers` holds the last value of a repeated one.
  for (const [k, v] of Object.entries(event.headers ?? {})) if (typeof v === 'string') headers[k.toLowerCase()] = v;
  return {
    method: event.httpMethod,
    path: event.path,
    query: event.queryStringParameters,
    headers,
    body: event.body,
    isBase64Encoded: event.isBase64Encoded === true,
    authorisedUpstream: authorisedUpstream(event),
  };
}

/**
 * Access behind API Gateway: the gateway enforces API keys and IAM, so the local bearer token is
 * never asked for. The Lambda only refuses (403) a call the gateway did not authorise for the
 * route's level, which happens only if a method's authorisation was left off in the stack:
 * a misconfiguration fails closed instead of opening the admin API.
 */
export const trustApiGateway: Authorise = (access, request) => {
  if (access === 'open') return;
  if (request.authorisedUpstream?.includes(access)) return;
  throw new ForbiddenError(
    access === 'admin'
      ? 'Admin routes need an IAM (SigV4) signed request.'
      : 'This route needs an API key in the x-api-key header.',
  );
};

/** The shared mapping's answer as the proxy integration's result; a HEAD answer has no body. */
export function resultFromResponse(response: HttpResponse, method: string): APIGatewayProxyResult {
  return {
    statusCode: response.status,
    headers: { ...response.headers },
    body: method === 'HEAD' ? '' : response.body,
    isBase64Encoded: false,
  };
}
