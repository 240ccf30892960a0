import type { App } from '../app.js';
import {
  DomainError,
  MethodNotAllowedError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
  ValidationError,
} from '../errors.js';
import type { Logger } from '../ports.js';
import { MAX_BODY_BYTES } from '../schemas/limits.js';
import { invoke, type Router } from './dispatch.js';
import { toProblem } from './problem.js';
import type { Access, Route } from './route.js';

/** Header names in lower case, as Node gives them; a transport that keeps case lowers them first. */
export type HttpHeaders = Readonly<Record<string, string | string[] | undefined>>;

/**
 * Reads the body up to `limit` bytes, rejecting with PayloadTooLargeError past it. A streaming
 * transport passes one so that a refused request is never buffered whole; a buffered one (API
 * Gateway) passes the bytes or text it holds.
 */
export type BodyReader = (limit: number) => Promise<Uint8Array>;

/** One HTTP request, whatever carried it (node:http locally, an API Gateway event in AWS). */
export interface HttpRequest {
  readonly method: string;
  /** The path without the query string, still percent-encoded. */
  readonly path: string;
  /** The raw query string (without `?`), or the parameters already decoded by the transport. */
  readonly query: string | Readonly<Record<string, string | undefined>> | null | undefined;
  readonly headers: HttpHeaders;
  readonly body: Uint8Array | string | BodyReader | null | undefined;
  /** The body string is base64 (API Gateway's encoding of binary payloads). */
  readonly isBase64Encoded?: boolean;
  /** Scheme, host and port the caller used, if the transport knows them well-formed. */
  readonly baseUrl?: string;
  /** Access levels a gateway in front (API Gateway) has already authorised this request for. */
  readonly authorisedUpstream?: readonly Access[];
}

export interface HttpResponse {
  readonly status: number;
  /** Always carries content-type; never content-length (the transport knows its framing). */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** The route that answered, for logs and metrics (undefined for documents and unrouted requests). */
  readonly operationId?: string;
  /** What the route returned, before serialisation (for metrics such as fallback counts). */
  readonly value?: unknown;
  /** The error the answer stands for, if any (a transport may close the connection after a 413). */
  readonly error?: unknown;
}

/**
 * Who may call a route. Throws UnauthorizedError / ForbiddenError to refuse. Locally this is the
 * API key and bearer token check; behind API Gateway the gateway has authorised the call already.
 */
export type Authorise = (access: Access, request: HttpRequest) => void;

/** A document served as it is, outside the route table (GET and HEAD only). */
export interface StaticDocument {
  readonly contentType: string;
  /** The text, or what builds it at the first request (kept off a Lambda's cold start). */
  readonly body: string | (() => string);
  /** Headers sent with it besides content-type (e.g. a Content-Security-Policy). */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface HttpAdapterOptions<A = App> {
  readonly app: A;
  readonly router: Router<A>;
  readonly authorise: Authorise;
  readonly logger: Logger;
  /** By exact path, e.g. `/openapi.json`. */
  readonly documents?: ReadonlyMap<string, StaticDocument>;
}

const JSON_TYPE = 'application/json';

function isJson(contentType: string | undefined): boolean {
  if (!contentType) return false;
  if (contentType === JSON_TYPE) return true;
  const mime = contentType.split(';', 1)[0]!.trim().toLowerCase();
  return mime === JSON_TYPE || (mime.startsWith('application/') && mime.endsWith('+json'));
}

function header(headers: HttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[v.length - 1] : v;
}

const tooLarge = (limit: number) => new PayloadTooLargeError(`The body is larger than the limit of ${limit} bytes.`);

/** The body as bytes, at most `limit` of them. */
async function bodyBytes(req: HttpRequest, limit: number): Promise<Uint8Array> {
  const { body } = req;
  if (body === null || body === undefined) return new Uint8Array(0);
  if (typeof body === 'function') return body(limit);
  let bytes: Uint8Array;
  if (typeof body === 'string') {
    // Base64 is 4/3 of the bytes: a string that long cannot decode to fewer than `limit`.
    if (req.isBase64Encoded && Math.floor((body.length * 3) / 4) > limit + 2) throw tooLarge(limit);
    bytes = Buffer.from(body, req.isBase64Encoded ? 'base64' : 'utf8');
  } else {
    bytes = body;
  }
  if (bytes.length > limit) throw tooLarge(limit);
  return bytes;
}

async function readRouteBody(req: HttpRequest, route: Route<unknown>): Promise<unknown> {
  const spec = route.body;
  if (!spec) return undefined;
  const contentType = header(req.headers, 'content-type');
  if (spec.kind === 'binary') {
    const mime = contentType?.split(';', 1)[0]?.trim().toLowerCase();
    if (!mime || !spec.contentTypes.includes(mime)) {
      throw new UnsupportedMediaTypeError(`Send the artifact as ${spec.contentTypes.join(' or ')}.`);
    }
    return new Uint8Array(await bodyBytes(req, spec.maxBytes));
  }
  const raw = await bodyBytes(req, MAX_BODY_BYTES);
  if (raw.length === 0) return undefined;
  if (!isJson(contentType)) throw new UnsupportedMediaTypeError('Send the body as application/json.');
  try {
    return JSON.parse(Buffer.from(raw.buffer, raw.byteOffset, raw.length).toString('utf8'));
  } catch (err) {
    throw new ValidationError(`The body is not valid JSON: ${(err as Error).message}`, [
      { path: '(body)', message: 'is not valid JSON' },
    ]);
  }
}

function queryOf(query: HttpRequest['query']): Record<string, string> {
  const out: Record<string, string> = {};
  if (query === null || query === undefined || query === '') return out;
  if (typeof query === 'string') {
    // A repeated name keeps its last value, as API Gateway's queryStringParameters do.
    for (const [k, v] of new URLSearchParams(query)) out[k] = v;
    return out;
  }
  for (const [k, v] of Object.entries(query)) if (v !== undefined) out[k] = v;
  return out;
}

/**
 * Every answer is built field by field, without object spread: on Node 20 an object made by
 * spreading another and adding a property is kept past its request by the young-generation
 * collector and promoted (`{ ...a, b }` promoted ~150 KB a scavenge in a bare node:http server at
 * 6 800 requests/s, `Object.assign` or a literal nothing; docs/decisions.md), and promotions are
 * what the old generation's pauses are made of.
 */
function jsonAnswer(
  status: number,
  value: unknown,
  headers: Readonly<Record<string, string>> | undefined,
  extra: Pick<HttpResponse, 'operationId' | 'value' | 'error'>,
): HttpResponse {
  const all: Record<string, string> = { 'content-type': JSON_TYPE };
  if (headers) Object.assign(all, headers);
  return {
    status,
    headers: all,
    body: value === undefined ? '' : JSON.stringify(value),
    operationId: extra.operationId,
    value: extra.value,
    error: extra.error,
  };
}

/**
 * The one mapping from HTTP to the route table, shared by the local server and the Lambda
 * handler: documents, 404/405 from the router, authorisation, body limits (413), content types
 * (415), JSON parse errors (400), validation and the use case, and every error as problem+json.
 * Anything that is not a DomainError is logged and answered as a bare 500.
 */
export function createHttpAdapter<A = App>(
  options: HttpAdapterOptions<A>,
): (req: HttpRequest) => Promise<HttpResponse> {
  const { app, router, authorise, logger } = options;
  const documents = options.documents ?? new Map<string, StaticDocument>();
  return async (req) => {
    let operationId: string | undefined;
    // The route's template, never the request path: a path can hold a raw user id (/users/{user_id}).
    let routePath: string | undefined;
    try {
      const document = documents.get(req.path);
      if (document) {
        if (req.method !== 'GET' && req.method !== 'HEAD') {
          throw new MethodNotAllowedError(`${req.method} is not allowed on ${req.path}.`, ['GET', 'HEAD']);
        }
        const body = typeof document.body === 'function' ? document.body() : document.body;
        return { status: 200, headers: { ...document.headers, 'content-type': document.contentType }, body };
      }
      const match = router.match(req.method, req.path);
      operationId = match.route.operationId;
      routePath = match.route.path;
      authorise(match.route.access, req);
      const body = await readRouteBody(req, match.route);
      const result = await invoke(app, match, { query: queryOf(req.query), body, baseUrl: req.baseUrl });
      return jsonAnswer(result.status, result.body, result.headers, { operationId, value: result.body });
    } catch (err) {
      if (!(err instanceof DomainError)) {
        logger.error('unhandled error', {
          route: routePath ?? '(unrouted)',
          operation: operationId,
          error: (err as Error)?.name,
          stack: (err as Error)?.stack,
        });
      }
      const problem = toProblem(err);
      // Its headers carry the problem+json content type.
      return jsonAnswer(problem.status, problem.body, problem.headers, { operationId, error: err });
    }
  };
}
