import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Router } from '../core/api/dispatch.js';
import { createHttpAdapter, type StaticDocument } from '../core/api/http-adapter.js';
import type { App } from '../core/app.js';
import { PayloadTooLargeError, ValidationError } from '../core/errors.js';
import type { Logger } from '../core/ports.js';
import type { AccessControl } from './access.js';

export interface HttpServerOptions {
  readonly app: App;
  readonly router: Router;
  readonly access: AccessControl;
  readonly logger: Logger;
  /** Serialised once at start: the document never changes while the server runs. */
  readonly openApiJson: string;
  readonly landingHtml: string;
  /** More documents by path (the dashboard's page and assets); `/` here replaces the landing page. */
  readonly documents?: ReadonlyMap<string, StaticDocument>;
}

/**
 * Reads the body up to `limit` bytes; past it the request is refused without buffering the rest
 * (PayloadTooLargeError), and a body cut short is a ValidationError. `adclick dashboard`'s proxy
 * reads its bodies with it too.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
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
    // The client closed or was timed out (408) before its body was through: an incomplete request,
    // not a server fault (nobody is left to read the answer; it must not be logged as a bug).
    const incomplete = () =>
      reject(
        new ValidationError('The request body was not received completely.', [
          { path: '(body)', message: 'is incomplete' },
        ]),
      );
    req.on('error', incomplete);
    req.on('close', () => {
      if (!req.complete) incomplete();
    });
  });
}

/** The caller's view of this server, from a well-formed Host header only (never echo junk back). */
function callerBaseUrl(host: string | undefined): string | undefined {
  return host !== undefined && /^[A-Za-z0-9.-]{1,253}(:\d{1,5})?$|^\[[0-9A-Fa-f:.]{2,45}\](:\d{1,5})?$/.test(host)
    ? `http://${host}`
    : undefined;
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

/**
 * The local HTTP server: a thin shell over the shared route table. Everything route-specific
 * (validation, use case, status) lives in the table and the HTTP mapping in the shared adapter
 * (core/api/http-adapter.ts); this file only speaks node:http.
 */
export function createHttpServer(options: HttpServerOptions): HttpServer {
  const { app, router, access, logger } = options;
  const documents = new Map<string, StaticDocument>([
    ['/openapi.json', { contentType: 'application/json', body: options.openApiJson }],
    ['/', { contentType: 'text/html; charset=utf-8', body: options.landingHtml }],
    ...(options.documents ?? []),
  ]);
  // Everything HTTP-to-route-table lives in the shared adapter (the Lambda handler uses it too).
  const respond = createHttpAdapter({
    app,
    router,
    logger,
    documents,
    authorise: (level, request) => access.check(level, request.headers),
  });
  let draining = false;
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const answer = await respond({
      method: req.method ?? 'GET',
      path: q === -1 ? url : url.slice(0, q),
      query: q === -1 ? '' : url.slice(q + 1),
      headers: req.headers,
      body: (limit) => readBody(req, limit),
      baseUrl: callerBaseUrl(req.headers.host),
    });
    // After a refused body the rest of the request may still be arriving: close the connection
    // rather than parse leftover bytes as a next request.
    if (answer.error instanceof PayloadTooLargeError) res.shouldKeepAlive = false;
    if (res.headersSent) {
      res.destroy();
      return;
    }
    // Decided when answering, not when the request came in: it may have arrived before SIGTERM.
    if (draining) res.shouldKeepAlive = false;
    // Node leaves the body out of a HEAD answer by itself; the headers stay those of the GET.
    // Assigned, not spread into a new object: see jsonAnswer in http-adapter.ts.
    const headers: Record<string, string | number> = Object.assign({}, answer.headers);
    headers['content-length'] = Buffer.byteLength(answer.body);
    res.writeHead(answer.status, headers);
    res.end(answer.body);
  };
  // Slow clients: headers must arrive within 10 s and the whole request within 30 s (an artifact
  // upload of up to 64 MB included), checked every second, so a trickling connection is answered
  // 408 and closed rather than held (Node's defaults: 60 s for headers, checked every 30 s).
  const server = createServer(
    { keepAliveTimeout: 65_000, requestTimeout: 30_000, headersTimeout: 10_000, connectionsCheckingInterval: 1_000 },
    (req, res) => {
      void handle(req, res);
    },
  );
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    // A request too slow to arrive (the timeouts above) is a 408, headers too large a 431.
    const status =
      err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? '408 Request Timeout'
        : err.code === 'HPE_HEADER_OVERFLOW'
          ? '431 Request Header Fields Too Large'
          : '400 Bad Request';
    if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\n\r\n`);
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
