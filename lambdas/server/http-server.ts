import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { invoke, type Router } from '../core/api/dispatch.js';
import { toProblem } from '../core/api/problem.js';
import type { Route } from '../core/api/route.js';
import type { App } from '../core/app.js';
import {
  DomainError,
  MethodNotAllowedError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
  ValidationError,
} from '../core/errors.js';
import type { Logger } from '../core/ports.js';
import { MAX_BODY_BYTES } from '../core/schemas/common.js';
import type { AccessControl } from './access.js';

export interface HttpServerOptions {
  readonly app: App;
  readonly router: Router;
  readonly access: AccessControl;
  readonly logger: Logger;
  /** Serialised once at start: the document never changes while the server runs. */
  readonly openApiJson: string;
  readonly landingHtml: string;
}

/** What to write back: everything a route, a document or a problem produces. */
interface Answer {
  readonly status: number;
  readonly contentType: string;
  readonly payload: string;
  readonly headers?: Readonly<Record<string, string>>;
}

const json = (status: number, body: unknown, headers?: Readonly<Record<string, string>>): Answer => ({
  status,
  contentType: 'application/json',
  payload: body === undefined ? '' : JSON.stringify(body),
  headers,
});

function isJson(contentType: string | undefined): boolean {
  if (!contentType) return false;
  if (contentType === 'application/json') return true;
  const mime = contentType.split(';', 1)[0]!.trim().toLowerCase();
  return mime === 'application/json' || (mime.startsWith('application/') && mime.endsWith('+json'));
}

/** Reads the body up to `limit` bytes; past it the request is refused without buffering the rest. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    return Promise.reject(new PayloadTooLargeError(`The body is larger than the limit of ${limit} bytes.`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new PayloadTooLargeError(`The body is larger than the limit of ${limit} bytes.`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    req.on('error', reject);
  });
}

async function readRouteBody(req: IncomingMessage, route: Route): Promise<unknown> {
  const body = route.body;
  if (!body) return undefined;
  const contentType = req.headers['content-type'];
  if (body.kind === 'binary') {
    const mime = contentType?.split(';', 1)[0]?.trim().toLowerCase();
    if (!mime || !body.contentTypes.includes(mime)) {
      throw new UnsupportedMediaTypeError(`Send the artifact as ${body.contentTypes.join(' or ')}.`);
    }
    return new Uint8Array(await readBody(req, body.maxBytes));
  }
  const raw = await readBody(req, MAX_BODY_BYTES);
  if (raw.length === 0) return undefined;
  if (!isJson(contentType)) throw new UnsupportedMediaTypeError('Send the body as application/json.');
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new ValidationError(`The body is not valid JSON: ${(err as Error).message}`, [
      { path: '(body)', message: 'is not valid JSON' },
    ]);
  }
}

/** The caller's view of this server, from a well-formed Host header only (never echo junk back). */
function callerBaseUrl(host: string | undefined): string | undefined {
  return host !== undefined && /^[A-Za-z0-9.-]{1,253}(:\d{1,5})?$|^\[[0-9A-Fa-f:.]{2,45}\](:\d{1,5})?$/.test(host)
    ? `http://${host}`
    : undefined;
}

function parseQuery(qs: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (qs === '') return out;
  for (const [k, v] of new URLSearchParams(qs)) out[k] = v;
  return out;
}

export interface HttpServer {
  readonly server: Server;
  /**
   * Stops accepting connections and lets requests in flight finish; their answers say
   * `connection: close`, so keep-alive clients go elsewhere. Resolves when every connection is
   * closed, or after `graceMs`, when the remaining ones are cut.
   */
  shutdown(graceMs: number): Promise<void>;
}

/** Documents served as they are, outside the route table (GET and HEAD only). */
interface StaticDocument {
  readonly contentType: string;
  readonly body: string;
}

/**
 * The local HTTP server: a thin shell over the shared route table. Everything route-specific
 * (validation, use case, status) lives in the table; this file only speaks HTTP.
 */
export function createHttpServer(options: HttpServerOptions): HttpServer {
  const { app, router, access, logger } = options;
  const documents = new Map<string, StaticDocument>([
    ['/openapi.json', { contentType: 'application/json', body: options.openApiJson }],
    ['/', { contentType: 'text/html; charset=utf-8', body: options.landingHtml }],
  ]);
  let draining = false;
  const respond = async (req: IncomingMessage, url: string): Promise<Answer> => {
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const document = documents.get(path);
    if (document) {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        throw new MethodNotAllowedError(`${req.method} is not allowed on ${path}.`, ['GET', 'HEAD']);
      }
      return { status: 200, contentType: document.contentType, payload: document.body };
    }
    const match = router.match(req.method ?? 'GET', path);
    access.check(match.route.access, req.headers);
    const body = await readRouteBody(req, match.route);
    const result = await invoke(app, match, {
      query: parseQuery(q === -1 ? '' : url.slice(q + 1)),
      body,
      baseUrl: callerBaseUrl(req.headers.host),
    });
    return json(result.status, result.body, result.headers);
  };
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '/';
    let answer: Answer;
    try {
      answer = await respond(req, url);
    } catch (err) {
      if (!(err instanceof DomainError)) {
        logger.error('unhandled error', {
          path: url.split('?', 1)[0],
          error: (err as Error).name,
          stack: (err as Error).stack,
        });
      }
      // After a refused body the rest of the request may still be arriving: close the connection
      // rather than parse leftover bytes as a next request.
      if (err instanceof PayloadTooLargeError) res.shouldKeepAlive = false;
      const problem = toProblem(err);
      // Its headers carry the problem+json content type.
      answer = json(problem.status, problem.body, problem.headers);
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    // Decided when answering, not when the request came in: it may have arrived before SIGTERM.
    if (draining) res.shouldKeepAlive = false;
    // Node leaves the body out of a HEAD answer by itself; the headers stay those of the GET.
    res.writeHead(answer.status, {
      'content-type': answer.contentType,
      'content-length': Buffer.byteLength(answer.payload),
      ...answer.headers,
    });
    res.end(answer.payload);
  };
  const server = createServer({ keepAliveTimeout: 65_000, requestTimeout: 30_000 }, (req, res) => {
    void handle(req, res);
  });
  server.on('clientError', (err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    else socket.destroy(err);
  });
  const shutdown = (graceMs: number) =>
    new Promise<void>((done) => {
      draining = true;
      const deadline = setTimeout(() => server.closeAllConnections(), graceMs);
      deadline.unref();
      server.close(() => {
        clearTimeout(deadline);
        done();
      });
      // Idle keep-alive sockets would otherwise hold close() open until their timeout.
      server.closeIdleConnections();
    });
  return { server, shutdown };
}

export function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}
