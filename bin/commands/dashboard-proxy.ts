/**
 * `adclick dashboard`'s server: the dashboard page on loopback, and its API calls forwarded to
 * one deployed API, each signed with SigV4 (service execute-api) with the caller's AWS
 * credentials, since the deployed admin routes take IAM rather than a token.
 *
 * It signs with someone's credentials, so it forwards little: only the calls the page makes,
 * only to the configured API, only from the page itself (Host must be this loopback address,
 * a browser's Origin must be the page's, and the page's marker header must be there: a
 * cross-site form or a DNS-rebound name cannot make it sign anything).
 */
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import { toProblem } from '../../lambdas/core/api/problem.js';
import { DomainError } from '../../lambdas/core/errors.js';
import { type DashboardBundle, dashboardDocuments } from '../../lambdas/server/dashboard-assets.js';
import { readBody } from '../../lambdas/server/http-server.js';

/** The largest request body the page sends is an activation's `{force}`; the API's own limit is 256 KB. */
const MAX_BODY_BYTES = 256 * 1024;
const UPSTREAM_TIMEOUT_MS = 30_000;
const LOOPBACK = '127.0.0.1';

/** The calls the page makes; nothing else is signed. */
const FORWARDED: readonly (readonly [method: string, path: RegExp])[] = [
  ['GET', /^\/analytics\/(ad-performance|user-segments|models|fraud)$/],
  ['GET', /^\/models$/],
  ['GET', /^\/model\/active$/],
  ['GET', /^\/experiments$/],
  ['GET', /^\/experiments\/[^/]+$/],
  ['PUT', /^\/model\/activate\/[^/]+$/],
  ['GET', /^\/(health|openapi\.json)$/],
];
/** Open routes the page links to: followed as plain links, so without the marker header. */
const LINKED = /^\/(health|openapi\.json)$/;
const MARKER = 'x-adclick-dashboard';

export interface DashboardProxyOptions {
  /** Base URL of the deployed API, e.g. https://abc123.execute-api.eu-west-1.amazonaws.com/prod */
  readonly api: string;
  readonly port: number;
  readonly region: string;
  /** Static credentials or a provider (the default chain's, from the command). */
  readonly credentials: ConstructorParameters<typeof SignatureV4>[0]['credentials'];
  readonly bundle: DashboardBundle;
}

export interface DashboardProxy {
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

class Refused extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function problem(res: ServerResponse, status: number, detail: string): void {
  const body = JSON.stringify({ type: 'about:blank', title: detail, status, detail });
  res.writeHead(status, { 'content-type': 'application/problem+json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** The API base as a URL with no trailing slash in its path; only http(s), no credentials, no query. */
export function parseApiBase(api: string): URL {
  let url: URL;
  try {
    url = new URL(api);
  } catch {
    throw new Error(`--api ${api} is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('--api must be an http(s) URL');
  if (url.username || url.password || url.search || url.hash) {
    throw new Error('--api must be a base URL without credentials, query or fragment');
  }
  url.pathname = url.pathname.replace(/\/+$/, '');
  return url;
}

/** The region of an API Gateway URL (`<id>.execute-api.<region>.amazonaws.com`), if it is one. */
export function regionOfApi(api: URL): string | undefined {
  return /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(api.hostname)?.[1];
}

export async function startDashboardProxy(options: DashboardProxyOptions): Promise<DashboardProxy> {
  const api = parseApiBase(options.api);
  const signer = new SignatureV4({
    service: 'execute-api',
    region: options.region,
    credentials: options.credentials,
    sha256: Sha256,
  });
  let origins: Set<string> = new Set();
  const documents = dashboardDocuments(options.bundle, { auth: 'sigv4', api: api.href });

  /** Where a request may go: the configured API's origin and base path, or nowhere. */
  const target = (req: IncomingMessage): URL => {
    const raw = req.url ?? '';
    // Origin-form only ("/path?query"): an absolute or authority form names another server.
    if (!raw.startsWith('/') || raw.startsWith('//')) throw new Refused(400, 'The request target must be a path.');
    const local = new URL(raw, 'http://proxy.invalid');
    if (local.origin !== 'http://proxy.invalid') throw new Refused(400, 'The request target must be a path.');
    const method = req.method ?? 'GET';
    if (!FORWARDED.some(([m, p]) => m === method && p.test(local.pathname))) {
      throw new Refused(403, `The dashboard proxy does not forward ${method} ${local.pathname}.`);
    }
    const url = new URL(api.href);
    url.pathname = `${api.pathname}${local.pathname}`;
    url.search = local.search;
    if (url.origin !== api.origin) throw new Refused(403, 'The dashboard proxy forwards to the configured API only.');
    return url;
  };

  /** Only the page itself, on this loopback address, may have calls signed. */
  const checkCaller = (req: IncomingMessage, path: string): void => {
    const host = req.headers.host ?? '';
    if (!origins.has(`http://${host}`)) throw new Refused(403, 'Use the dashboard at its loopback address.');
    const origin = req.headers.origin;
    if (origin !== undefined && !origins.has(origin)) throw new Refused(403, 'Calls from other sites are refused.');
    const site = req.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin' && site !== 'none') {
      throw new Refused(403, 'Calls from other sites are refused.');
    }
    if (!(req.method === 'GET' && LINKED.test(path)) && req.headers[MARKER] !== '1') {
      throw new Refused(403, 'Only the dashboard page may call the API through this proxy.');
    }
  };

  const forward = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = target(req);
    checkCaller(req, url.pathname.slice(api.pathname.length));
    const body = await readBody(req, MAX_BODY_BYTES);
    const query: Record<string, string | string[]> = {};
    for (const [k, v] of url.searchParams) {
      const prior = query[k];
      query[k] = prior === undefined ? v : [...(Array.isArray(prior) ? prior : [prior]), v];
    }
    const headers: Record<string, string> = { host: url.host, accept: 'application/json' };
    const contentType = req.headers['content-type'];
    if (body.length > 0 && contentType) headers['content-type'] = contentType;
    const signed = await signer.sign({
      method: req.method ?? 'GET',
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query,
      headers,
      ...(body.length > 0 ? { body } : {}),
    });
    await new Promise<void>((done, fail) => {
      const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
      const upstream = send(
        url,
        {
          method: req.method,
          headers: { ...signed.headers, 'content-length': String(body.length) },
          timeout: UPSTREAM_TIMEOUT_MS,
        },
        (answer) => {
          const keep: Record<string, string> = {};
          for (const name of ['content-type', 'allow', 'retry-after']) {
            const v = answer.headers[name];
            if (typeof v === 'string') keep[name] = v;
          }
          res.writeHead(answer.statusCode ?? 502, { ...keep, 'cache-control': 'no-store' });
          answer.pipe(res);
          answer.on('end', done);
          answer.on('error', fail);
        },
      );
      upstream.on('timeout', () => upstream.destroy(new Refused(504, 'The API did not answer in time.')));
      upstream.on('error', fail);
      upstream.end(body);
    });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    try {
      const path = (req.url ?? '').split('?', 1)[0]!;
      const document = documents.get(path);
      if (document && (req.method === 'GET' || req.method === 'HEAD')) {
        const body = typeof document.body === 'function' ? document.body() : document.body;
        res.writeHead(200, {
          ...document.headers,
          'content-type': document.contentType,
          'content-length': Buffer.byteLength(body),
        });
        res.end(req.method === 'HEAD' ? undefined : body);
        return;
      }
      await forward(req, res);
    } catch (err) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (err instanceof Refused) problem(res, err.status, err.message);
      else if (err instanceof DomainError) problem(res, toProblem(err).status, err.message);
      else problem(res, 502, `The API could not be reached: ${(err as Error).message}`);
    }
  };

  const server = createServer({ requestTimeout: UPSTREAM_TIMEOUT_MS + 5_000 }, (req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, LOOPBACK, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  origins = new Set([`http://${LOOPBACK}:${port}`, `http://localhost:${port}`]);
  return {
    url: `http://${LOOPBACK}:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
