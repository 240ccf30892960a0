import type { ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DASHBOARD_CSP } from '../../lambdas/server/dashboard-assets.js';
import { type Gateway, signingGateway, startDashboardCommand } from './sigv4-gateway.js';

const MARKER = { 'x-adclick-dashboard': '1' };

/** A stand-in for the deployed API: records what reaches it; a PUT without force is the gate's 409. */
function fakeApi(): Promise<Gateway> {
  return signingGateway(async (req) => {
    const status = req.method === 'PUT' && !req.body.includes('force') ? 409 : 200;
    return {
      status,
      type: status === 200 ? 'application/json' : 'application/problem+json',
      body: JSON.stringify({ status, seen: req.url }),
    };
  });
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
  let api: Gateway;
  let proxy: ChildProcess;
  let base: string;

  beforeAll(async () => {
    api = await fakeApi();
    ({ proc: proxy, base } = await startDashboardCommand(`${api.base}/prod/`));
  });

  afterAll(async () => {
    proxy?.kill('SIGTERM');
    await api?.close();
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
