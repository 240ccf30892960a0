import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DASHBOARD_CSP } from '../../lambdas/server/dashboard-assets.js';
import { CLI, TSX } from '../support/e2e-server.js';

const REGION = 'eu-west-1';
// Static test credentials, handed to the command through the environment (the default chain's first link).
const CREDENTIALS = {
  accessKeyId: 'AKIDDASHBOARDTEST',
  secretAccessKey: 'dashboard-test-secret',
  sessionToken: 'session-x',
};
const MARKER = { 'x-adclick-dashboard': '1' };

interface Received {
  readonly method: string;
  readonly url: string;
  readonly body: string;
  readonly signatureValid: boolean;
}

/** Recomputes the SigV4 signature of a request, over the headers it says it signed, with the same signer. */
async function verifySignature(req: IncomingMessage, body: Buffer): Promise<boolean> {
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

/** A stand-in for the deployed API: records what reaches it and whether its signature holds. */
async function fakeApi(): Promise<{ server: Server; base: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      const signatureValid = await verifySignature(req, body);
      received.push({ method: req.method ?? '', url: req.url ?? '', body: body.toString('utf8'), signatureValid });
      const status = req.method === 'PUT' && !body.toString().includes('force') ? 409 : 200;
      res.writeHead(status, { 'content-type': status === 200 ? 'application/json' : 'application/problem+json' });
      res.end(JSON.stringify({ status, seen: req.url }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}

/** A raw request, so that the request target and Host can be anything. */
function rawRequest(
  base: string,
  options: { method?: string; path: string; headers?: Record<string, string>; body?: string },
): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request(
      { hostname, port, method: options.method ?? 'GET', path: options.path, headers: options.headers },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          text += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('adclick dashboard --api', () => {
  let api: Awaited<ReturnType<typeof fakeApi>>;
  let proxy: ReturnType<typeof spawn>;
  let base: string;

  beforeAll(async () => {
    api = await fakeApi();
    proxy = spawn(TSX, [CLI, 'dashboard', '--api', `${api.base}/prod/`, '--port', '0', '--region', REGION], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
        AWS_SESSION_TOKEN: CREDENTIALS.sessionToken,
        AWS_CONFIG_FILE: '/nonexistent',
        AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
        AWS_EC2_METADATA_DISABLED: 'true',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    base = await new Promise<string>((resolve, reject) => {
      let stderr = '';
      proxy.stderr?.on('data', (d) => {
        stderr += d;
        const m = /adclick dashboard on (http:\/\/\S+)\/ for /.exec(stderr);
        if (m) resolve(m[1]!);
      });
      proxy.once('exit', (code) => reject(new Error(`exited ${code}: ${stderr}`)));
    });
  });

  afterAll(async () => {
    proxy?.kill('SIGTERM');
    await new Promise<void>((r) => api?.server.close(() => r()));
  });

  it('listens on loopback only and serves the page, which it tells to rely on the proxy, without calling the API', async () => {
    // Act
    const page = await rawRequest(base, { path: '/' });

    // Assess
    expect(new URL(base).hostname).toBe('127.0.0.1');
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toBe(DASHBOARD_CSP);
    expect(page.text).toContain('<meta name="adclick-auth" content="sigv4">');
    expect(page.text).toContain(`<meta name="adclick-api" content="${api.base}/prod">`);
    expect(api.received).toEqual([]);
  });

  it("forwards the page's calls under the API's base path, signed with SigV4 over method, path, query and body", async () => {
    // Act
    const query = '?from=2026-12-01T00%3A00%3A00Z&to=2026-12-02T00%3A00%3A00Z&granularity=hour';
    const analytics = await rawRequest(base, { path: `/analytics/ad-performance${query}`, headers: MARKER });
    const activate = await rawRequest(base, {
      method: 'PUT',
      path: '/model/activate/m_1',
      headers: { ...MARKER, 'content-type': 'application/json' },
      body: '{"force":true}',
    });
    const refused = await rawRequest(base, {
      method: 'PUT',
      path: '/model/activate/m_1',
      headers: { ...MARKER, 'content-type': 'application/json' },
      body: '{}',
    });

    // Assess
    expect(analytics.status).toBe(200);
    expect(JSON.parse(analytics.text).seen).toBe(`/prod/analytics/ad-performance${query}`);
    expect(activate.status).toBe(200);
    expect(refused.status).toBe(409);
    expect(refused.headers['content-type']).toBe('application/problem+json');
    expect(api.received.map((r) => [r.method, r.url, r.body, r.signatureValid])).toEqual([
      ['GET', `/prod/analytics/ad-performance${query}`, '', true],
      ['PUT', '/prod/model/activate/m_1', '{"force":true}', true],
      ['PUT', '/prod/model/activate/m_1', '{}', true],
    ]);
  });

  it('forwards nothing but the page calls to the configured API, and nothing from another site or address', async () => {
    // Prepare
    const before = api.received.length;

    // Act
    const answers = await Promise.all([
      rawRequest(base, { path: 'http://169.254.169.254/latest/meta-data/', headers: MARKER }),
      rawRequest(base, { path: '//evil.example/analytics/models', headers: MARKER }),
      rawRequest(base, { method: 'DELETE', path: '/users/u1', headers: MARKER }),
      rawRequest(base, { method: 'POST', path: '/model/upload', headers: MARKER, body: '{}' }),
      rawRequest(base, { path: '/analytics/../ads/a1', headers: MARKER }),
      rawRequest(base, { path: '/models' }),
      rawRequest(base, { path: '/models', headers: { ...MARKER, origin: 'https://evil.example' } }),
      rawRequest(base, { path: '/models', headers: { ...MARKER, 'sec-fetch-site': 'cross-site' } }),
      rawRequest(base, { path: '/models', headers: { ...MARKER, host: `evil.example:${new URL(base).port}` } }),
    ]);

    // Assess
    for (const a of answers) {
      expect(a.status).toBeGreaterThanOrEqual(400);
      expect(a.status).toBeLessThan(500);
      expect(a.headers['content-type']).toBe('application/problem+json');
    }
    expect(api.received.length).toBe(before);
  });
});
