/**
 * `serve` of the SageMaker container contract: `GET /ping` answers 200 once the model is loaded,
 * `POST /invocations` scores a JSON batch (see invocations.ts). The same scorer module serves the
 * local server and the in-Lambda fallback, so the endpoint and the fallback agree number for number.
 *
 * Errors are application/problem+json: 400 for a body that is not valid JSON or breaks the schema
 * (the detail names the field), 404/405 for other paths and methods, 413 past 6 MB, 415 for
 * another content type. No input yields a 500.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadScorer, type Scorer } from '../model/scorer.js';
import { InvocationRequest, invoke, MAX_BODY_BYTES } from './invocations.js';
import { containerPaths } from './paths.js';

class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    detail: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
  }
}

function send(res: ServerResponse, status: number, body: unknown, contentType = 'application/json'): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  if (Number(req.headers['content-length']) > MAX_BODY_BYTES) {
    return Promise.reject(
      new HttpProblem(413, 'Payload Too Large', `The body is larger than ${MAX_BODY_BYTES} bytes.`),
    );
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.removeAllListeners('data');
        req.resume();
        reject(new HttpProblem(413, 'Payload Too Large', `The body is larger than ${MAX_BODY_BYTES} bytes.`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks, size)));
    req.on('error', reject);
  });
}

async function parseInvocation(req: IncomingMessage): Promise<InvocationRequest> {
  const mime = req.headers['content-type']?.split(';', 1)[0]?.trim().toLowerCase();
  if (mime !== 'application/json') {
    throw new HttpProblem(415, 'Unsupported Media Type', 'Send the batch as application/json.');
  }
  const raw = await readBody(req);
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new HttpProblem(400, 'Bad Request', `The body is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = InvocationRequest.safeParse(json);
  if (!parsed.success) {
    // Name every offending field (the first few), as the API's problem documents do.
    const issues = parsed.error.issues;
    const listed = issues.slice(0, 5).map((i) => `${i.path.length > 0 ? i.path.join('.') : '(body)'}: ${i.message}`);
    const more = issues.length > listed.length ? `; and ${issues.length - listed.length} more` : '';
    throw new HttpProblem(400, 'Bad Request', `Invalid batch: ${listed.join('; ')}${more}.`);
  }
  return parsed.data;
}

export interface InferenceServer {
  readonly server: Server;
  readonly port: number;
  close(): Promise<void>;
}

/** Serves an already loaded scorer (tests, and `serve` below once the artifact is loaded). */
export async function startInferenceServer(scorer: Scorer, port: number, host = '0.0.0.0'): Promise<InferenceServer> {
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    try {
      if (path === '/ping') {
        if (req.method !== 'GET' && req.method !== 'HEAD')
          throw new HttpProblem(405, 'Method Not Allowed', 'Use GET.', { allow: 'GET, HEAD' });
        send(res, 200, { status: 'ok' });
        return;
      }
      if (path === '/invocations') {
        if (req.method !== 'POST') throw new HttpProblem(405, 'Method Not Allowed', 'Use POST.', { allow: 'POST' });
        send(res, 200, invoke(scorer, await parseInvocation(req)));
        return;
      }
      throw new HttpProblem(
        404,
        'Not Found',
        `No route for ${req.method} ${path}: use GET /ping or POST /invocations.`,
      );
    } catch (err) {
      const p =
        err instanceof HttpProblem
          ? err
          : new HttpProblem(500, 'Internal Server Error', 'The model failed to score this batch.');
      if (!(err instanceof HttpProblem))
        process.stderr.write(`invocation failed: ${(err as Error).stack ?? String(err)}\n`);
      if (p.status === 413) res.shouldKeepAlive = false;
      for (const [k, v] of Object.entries(p.headers)) res.setHeader(k, v);
      send(
        res,
        p.status,
        { type: 'about:blank', title: p.title, status: p.status, detail: p.message },
        'application/problem+json',
      );
    }
  };
  // SageMaker keeps connections to the container open; its own timeout is 60 s per invocation.
  const server = createServer(
    { keepAliveTimeout: 65_000, requestTimeout: 60_000 },
    (req, res) => void handle(req, res),
  );
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}

/** The container's `serve`: load the artifact from the model dir (failing fast), then listen. */
export async function serve(env: NodeJS.ProcessEnv = process.env): Promise<InferenceServer> {
  const paths = containerPaths(env);
  const scorer = await loadScorer(paths.modelDir);
  const running = await startInferenceServer(scorer, paths.port, env.SAGEMAKER_BIND_HOST ?? '0.0.0.0');
  process.stderr.write(`serving ${scorer.manifest.algorithm} model from ${paths.modelDir} on port ${running.port}\n`);
  const stop = () => void running.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  return running;
}
