/**
 * DESIGN.md "Access", route by route, driven by the route table itself: every route that needs a
 * credential refuses a missing one, a wrong one and the other role's one, so a route added to the
 * table is checked without anyone remembering to list it here. The AWS side of the same rule is in
 * test/unit/handlers/route-access.test.ts (the functions) and test/infra/serving-stack.test.ts
 * (API keys and AWS_IAM on every API Gateway method).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Route } from '../../lambdas/core/api/route.js';
import { ROUTES } from '../../lambdas/core/api/routes.js';
import type { LocalRuntime } from '../../lambdas/server/local-runtime.js';
import {
  CLI,
  call,
  type HttpResult,
  serverEnv,
  startInProcess,
  type TempDir,
  TSX,
  tempDir,
} from '../support/e2e-server.js';

const API_KEY = 'access-e2e-api-key-5c1d0e7f9a';
const ADMIN_TOKEN = 'access-e2e-admin-token-3b8e2d4f6a';

/** Every route that needs a credential, as `METHOD path` with the route. */
const GUARDED = ROUTES.filter((r) => r.access !== 'open').map((r) => [`${r.method} ${r.path}`, r] as const);

/** A route's template with every `{param}` filled in. */
const concretePath = (template: string) => template.replace(/\{\w+\}/g, 'access-e2e-param');

type Credential = { readonly apiKey?: string; readonly token?: string; readonly headers?: Record<string, string> };

/** What a caller might send instead of the route's credential. */
function wrongCredentials(route: Route<never>): Record<string, Credential> {
  if (route.access === 'ad-server') {
    return {
      none: {},
      'a wrong key': { apiKey: `${API_KEY}x` },
      'a truncated key': { apiKey: API_KEY.slice(0, -1) },
      'an empty key': { apiKey: '' },
      'the admin token as the key': { apiKey: ADMIN_TOKEN },
      'the admin token as a bearer token': { token: ADMIN_TOKEN },
    };
  }
  return {
    none: {},
    'a wrong token': { token: `${ADMIN_TOKEN}x` },
    'a truncated token': { token: ADMIN_TOKEN.slice(0, -1) },
    'the token without Bearer': { headers: { authorization: ADMIN_TOKEN } },
    'the token as Basic': { headers: { authorization: `Basic ${ADMIN_TOKEN}` } },
    'an API key as the bearer token': { token: API_KEY },
    'an API key in x-api-key': { apiKey: API_KEY },
  };
}

const rightCredential = (route: Route<never>): Credential =>
  route.access === 'ad-server' ? { apiKey: API_KEY } : { token: ADMIN_TOKEN };

function expectUnauthorized(res: HttpResult, what: string): void {
  expect(res.status, what).toBe(401);
  expect(res.headers.get('content-type'), what).toContain('application/problem+json');
  expect(res.json, what).toMatchObject({ status: 401 });
  // the refusal never echoes what was sent
  expect(res.text, what).not.toContain(ADMIN_TOKEN);
  expect(res.text, what).not.toContain(API_KEY);
}

describe('every route that needs a credential, from the route table (local server with API keys)', () => {
  let dir: TempDir;
  let server: LocalRuntime;

  beforeAll(async () => {
    dir = await tempDir('access');
    server = await startInProcess(dir.path, { ADCLICK_API_KEYS: API_KEY, ADCLICK_ADMIN_TOKEN: ADMIN_TOKEN });
  });

  afterAll(async () => {
    await server?.close();
    await dir?.cleanup();
  });

  it('leaves no route of the table open but GET /health', () => {
    // Assess: a new route is guarded unless someone decides otherwise here
    expect(ROUTES.filter((r) => r.access === 'open').map((r) => `${r.method} ${r.path}`)).toEqual(['GET /health']);
    expect(GUARDED.length).toBe(ROUTES.length - 1);
  });

  it.each(GUARDED)('refuses %s with a missing, wrong or other-role credential (401)', async (_, route) => {
    // Prepare
    const path = concretePath(route.path);
    const body = route.method === 'GET' ? undefined : {};

    // Act
    const refusals: [string, HttpResult][] = [];
    for (const [what, credential] of Object.entries(wrongCredentials(route))) {
      refusals.push([what, await call(server.url, route.method, path, { body, ...credential })]);
      if (route.method === 'GET') {
        refusals.push([`HEAD, ${what}`, await call(server.url, 'HEAD', path, credential)]);
      }
    }
    // a control: the right credential gets past access control (whatever the route then answers)
    const control = await call(server.url, route.method, path, { body, ...rightCredential(route) });

    // Assess
    for (const [what, res] of refusals) {
      if (what.startsWith('HEAD')) expect(res.status, what).toBe(401);
      else expectUnauthorized(res, what);
    }
    expect([401, 403]).not.toContain(control.status);
  });
});

describe('starting on a non-loopback address without API keys, through the CLI', () => {
  let dir: TempDir;

  beforeAll(async () => {
    dir = await tempDir('nonloopback');
  });

  afterAll(async () => {
    await dir?.cleanup();
  });

  /** `adclick serve` with the test server's env and `extra`; resolves when it exits. */
  function serve(extra: Record<string, string>): Promise<{ code: number | null; stderr: string; stdout: string }> {
    return new Promise((done) => {
      const child = spawn(TSX, [CLI, 'serve'], {
        env: { ...process.env, ...serverEnv(join(dir.path, 'data'), { ADCLICK_LOG_LEVEL: 'info', ...extra }) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      let stdout = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        stderr += d;
      });
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        stdout += d;
      });
      child.once('close', (code) => done({ code, stderr, stdout }));
    });
  }

  it.each(['0.0.0.0', '::', '192.0.2.10'])(
    'refuses HOST=%s with exit code 2 and a message naming ADCLICK_API_KEYS, before touching the data dir',
    async (host) => {
      // Act
      const run = await serve({ HOST: host });

      // Assess
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toContain('ADCLICK_API_KEYS');
      expect(run.stderr).not.toContain('adclick listening on');
      expect(existsSync(join(dir.path, 'data'))).toBe(false);
    },
  );

  it('refuses a key shorter than 16 characters on a non-loopback address too', async () => {
    // Act
    const run = await serve({ HOST: '0.0.0.0', ADCLICK_API_KEYS: 'short-key' });

    // Assess
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toContain('ADCLICK_API_KEYS');
    expect(run.stderr).not.toContain('short-key');
    expect(existsSync(join(dir.path, 'data'))).toBe(false);
  });
});
