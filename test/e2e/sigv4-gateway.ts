/**
 * A stand-in for API Gateway with IAM authorisation, for the dashboard's `--api` mode: checks each
 * request's SigV4 signature (recomputed with the same signer over the headers it says it signed)
 * and, when asked, forwards it to a local server as that server's admin, as the deployed API
 * would run it after IAM let it through.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import { CLI, TSX } from '../support/e2e-server.js';

export const REGION = 'eu-west-1';
/** Static test credentials, handed to the command through the environment (the default chain's first link). */
export const CREDENTIALS = {
  accessKeyId: 'AKIDDASHBOARDTEST',
  secretAccessKey: 'dashboard-test-secret',
  sessionToken: 'session-x',
};

/** The environment `adclick dashboard` runs with: those credentials and nothing else to find. */
export function credentialsEnv(): Record<string, string | undefined> {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    AWS_SESSION_TOKEN: CREDENTIALS.sessionToken,
    AWS_CONFIG_FILE: '/nonexistent',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}

/** Whether the request carries a valid SigV4 signature by CREDENTIALS for execute-api in REGION. */
export async function verifySignature(req: IncomingMessage, body: Buffer): Promise<boolean> {
  const auth = req.headers.authorization ?? '';
  const m =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=[0-9a-f]{64}$/.exec(
      auth,
    );
  if (!m || m[1] !== CREDENTIALS.accessKeyId || m[3] !== REGION || m[4] !== 'execute-api') return false;
  const signedHeaders = m[5]!.split(';');
  if (!signedHeaders.includes('host') || !signedHeaders.includes('x-amz-date')) return false;
  const amzDate = String(req.headers['x-amz-date']);
  const signingDate = new Date(
    `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
  );
  const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = v;
  const signer = new SignatureV4({ service: 'execute-api', region: REGION, credentials: CREDENTIALS, sha256: Sha256 });
  const again = await signer.sign(
    {
      method: req.method ?? 'GET',
      protocol: 'http:',
      hostname: url.hostname,
      port: Number(url.port),
      path: url.pathname,
      query,
      headers: Object.fromEntries(signedHeaders.map((h) => [h, String(req.headers[h])])),
      ...(body.length > 0 ? { body } : {}),
    },
    { signingDate },
  );
  return again.headers.authorization === auth && req.headers['x-amz-security-token'] === CREDENTIALS.sessionToken;
}

export interface Received {
  readonly method: string;
  readonly url: string;
  readonly body: string;
  readonly signatureValid: boolean;
}

export interface Gateway {
  readonly server: Server;
  readonly base: string;
  readonly received: Received[];
  close(): Promise<void>;
}

/**
 * Listens on loopback and answers each request with `answer`, after recording it and whether its
 * signature holds. A request whose signature does not hold is refused 403, as IAM would.
 */
export async function signingGateway(
  answer: (
    req: Received,
    headers: IncomingMessage['headers'],
  ) => Promise<{ status: number; type: string; body: string }>,
): Promise<Gateway> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      const signatureValid = await verifySignature(req, body);
      const seen = { method: req.method ?? '', url: req.url ?? '', body: body.toString('utf8'), signatureValid };
      received.push(seen);
      const out = signatureValid
        ? await answer(seen, req.headers)
        : { status: 403, type: 'application/json', body: '{"message":"Forbidden"}' };
      res.writeHead(out.status, { 'content-type': out.type });
      res.end(out.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    server,
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** Forwards a verified request to `target` (the stage prefix `stage` taken off) as its admin. */
export function forwardAsAdmin(target: string, stage: string, adminToken: string) {
  return async (req: Received, headers: IncomingMessage['headers']) => {
    const path = req.url.startsWith(`/${stage}/`) ? req.url.slice(stage.length + 1) : req.url;
    const res = await fetch(`${target}${path}`, {
      method: req.method,
      headers: {
        authorization: `Bearer ${adminToken}`,
        ...(headers['content-type'] ? { 'content-type': String(headers['content-type']) } : {}),
      },
      ...(req.body.length > 0 ? { body: req.body } : {}),
    });
    return { status: res.status, type: res.headers.get('content-type') ?? 'application/json', body: await res.text() };
  };
}

/** `adclick dashboard --api <api>` with the test credentials; resolves with where it listens. */
export async function startDashboardCommand(api: string): Promise<{ proc: ChildProcess; base: string }> {
  const proc = spawn(TSX, [CLI, 'dashboard', '--api', api, '--port', '0', '--region', REGION], {
    env: credentialsEnv(),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const base = await new Promise<string>((resolve, reject) => {
    let stderr = '';
    proc.stderr?.on('data', (d) => {
      stderr += d;
      const m = /adclick dashboard on (http:\/\/\S+)\/ for /.exec(stderr);
      if (m) resolve(m[1]!);
    });
    proc.once('exit', (code) => reject(new Error(`exited ${code}: ${stderr}`)));
  });
  return { proc, base };
}
