/**
 * Fuzzing of every operation of the API document the server serves (`GET /openapi.json`), with
 * requests generated from each operation's own schemas: parameters, bodies (valid, near valid,
 * anything), content types and credentials (right, wrong, none). ADCLICK_FUZZ_CASES cases in all
 * (default 1 000; `npm run test:reliability` runs 10 000), spread evenly over the operations.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  call,
  type HttpResult,
  type ServerProcess,
  spawnServer,
  stopHard,
  type TempDir,
  tempDir,
} from '../support/e2e-server.js';
import {
  type Body,
  bodyToSend,
  CONTENT_TYPES,
  headerSafe,
  insaneAnswer,
  paramArb,
} from '../support/fuzz-arbitraries.js';
import {
  bodyArbitrary,
  type OpenApiDocument,
  type Operation,
  operationsOf,
  queryArbitrary,
  validArbitrary,
} from '../support/openapi-arbitraries.js';
import { envCount, reportCounts } from '../support/reliability-report.js';

const CASES = envCount('ADCLICK_FUZZ_CASES', 1_000);
const ADMIN_TOKEN = 'reliability-fuzz-admin-token-0123456789';

type Credential = 'admin' | 'wrong-bearer' | 'malformed-bearer' | 'wrong-api-key' | 'none';
const CREDENTIAL_HEADERS: Record<Credential, Record<string, string>> = {
  admin: { authorization: `Bearer ${ADMIN_TOKEN}` },
  'wrong-bearer': { authorization: 'Bearer reliability-fuzz-wrong-token-9876543210' },
  'malformed-bearer': { authorization: `Basic ${ADMIN_TOKEN}` },
  'wrong-api-key': { 'x-api-key': 'not-a-key' },
  none: {},
};

interface FuzzCase {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly body: Body;
  readonly contentType: string | null;
  readonly credential: Credential;
}

const isAdmin = (operation: Operation) => operation.security?.some((s) => 'adminToken' in s) === true;

describe('every operation of the served API document under generated requests', () => {
  let dir: TempDir;
  let server: ServerProcess | undefined;
  let doc: OpenApiDocument;
  const knownIds: string[] = ['fuzz-ad'];
  const tally = { cases: 0, s2xx: 0, s3xx: 0, s4xx: 0, s5xx: 0, refusedCredentials: 0 };

  beforeAll(async () => {
    dir = await tempDir('openapi-fuzz');
    server = await spawnServer(dir.path, { ADCLICK_ADMIN_TOKEN: ADMIN_TOKEN, ADCLICK_LOG_LEVEL: 'error' });
    doc = (await call(server.url, 'GET', '/openapi.json')).json as OpenApiDocument;
    await call(server.url, 'PUT', '/ads/fuzz-ad', {
      token: ADMIN_TOKEN,
      body: { campaign_id: 'camp-1', advertiser_id: 'adv-1', category: 'sports' },
    });
    const active = await call(server.url, 'GET', '/model/active', { token: ADMIN_TOKEN });
    const uploading = await call(server.url, 'POST', '/model/upload', {
      token: ADMIN_TOKEN,
      body: { version: 'openapi-fuzz-uploading', metadata: {} },
    });
    knownIds.push(active.json.model_id, uploading.json.model_id);
  });

  afterAll(async () => {
    const alive = server?.proc.exitCode === null && server.proc.signalCode === null;
    reportCounts('openapi fuzz', {
      operations: doc ? operationsOf(doc).length : 0,
      cases: tally.cases,
      '2xx': tally.s2xx,
      '3xx': tally.s3xx,
      '4xx': tally.s4xx,
      '5xx': tally.s5xx,
      wrong_credentials_refused: tally.refusedCredentials,
      crashes: alive ? 0 : 1,
    });
    await stopHard(server);
    await dir?.cleanup();
  });

  async function send(c: FuzzCase): Promise<HttpResult> {
    return call(server!.url, c.method, c.query === '' ? c.path : `${c.path}?${c.query}`, {
      body: bodyToSend(c.method, c.body),
      contentType: c.contentType,
      headers: CREDENTIAL_HEADERS[c.credential],
    });
  }

  function caseArbitrary(method: string, template: string, operation: Operation): fc.Arbitrary<FuzzCase> {
    const pathParams = (operation.parameters ?? []).filter((p) => p.in === 'path');
    const path =
      pathParams.length === 0
        ? fc.constant(template)
        : fc
            .tuple(
              ...pathParams.map((p) =>
                fc.oneof(
                  paramArb(() => knownIds),
                  validArbitrary(doc, p.schema ?? {}).map((v) => encodeURIComponent(String(v))),
                ),
              ),
            )
            .map((values) => pathParams.reduce((t, p, i) => t.replace(`{${p.name}}`, values[i]!), template));
    const declared = Object.keys(operation.requestBody?.content ?? {});
    const preferred = declared.length > 0 ? declared : ['application/json'];
    return fc.record({
      method: fc.constant(method),
      path,
      query: queryArbitrary(doc, operation),
      body: bodyArbitrary(doc, operation),
      contentType: fc.oneof(
        { weight: 6, arbitrary: fc.constantFrom(...preferred) },
        { weight: 1, arbitrary: fc.constantFrom(...CONTENT_TYPES) },
        { weight: 1, arbitrary: headerSafe },
        { weight: 1, arbitrary: fc.constant(null) },
      ),
      credential: fc.oneof(
        { weight: 6, arbitrary: fc.constant<Credential>('admin') },
        {
          weight: 3,
          arbitrary: fc.constantFrom<Credential>('wrong-bearer', 'malformed-bearer', 'wrong-api-key', 'none'),
        },
      ),
    });
  }

  function check(c: FuzzCase, res: HttpResult, admin: boolean): void {
    const what = `${c.method} ${c.path}?${c.query} [${c.credential}] (${c.contentType}) ${JSON.stringify(c.body).slice(0, 300)} → ${res.status} ${res.text.slice(0, 300)}`;
    tally.cases++;
    if (res.status >= 500) tally.s5xx++;
    else if (res.status >= 400) tally.s4xx++;
    else if (res.status >= 300) tally.s3xx++;
    else tally.s2xx++;
    expect(insaneAnswer(res), what).toBeNull();
    // fetch resolves dot segments (`/models/..` is `/`): such a request never reached the operation.
    const reached = new URL(c.path, 'http://host').pathname === c.path;
    if (admin && reached && c.credential !== 'admin') {
      expect(res.status, `an admin operation answered a wrong credential: ${what}`).toBeGreaterThanOrEqual(400);
      if (res.status === 401 || res.status === 403) tally.refusedCredentials++;
    }
  }

  it('serves a document with operations to fuzz', () => {
    expect(operationsOf(doc).length).toBeGreaterThan(10);
  });

  it('answers every generated request of every operation without a 5xx, each 4xx a problem of its status', async () => {
    // Prepare: the cases spread evenly over the operations, plus methods no operation of a path has
    const operations = operationsOf(doc);
    const perOperation = Math.ceil((CASES * 0.95) / operations.length);
    const paths = [...new Set(operations.map((o) => o.path))];
    const undeclared = fc
      .constantFrom(...paths)
      .chain((path) => {
        const declared = new Set(operations.filter((o) => o.path === path).map((o) => o.method));
        const others = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'].filter((m) => !declared.has(m));
        const operation = operations.find((o) => o.path === path)!.operation;
        return fc.constantFrom(...others).chain((m) => caseArbitrary(m, path, operation));
      })
      .map((c) => ({ c, admin: false }));

    // Act + Assess: each operation's cases, then the undeclared methods
    for (const { method, path, operation } of operations) {
      const admin = isAdmin(operation);
      await fc.assert(
        fc.asyncProperty(caseArbitrary(method, path, operation), async (c) => {
          check(c, await send(c), admin);
        }),
        { numRuns: perOperation },
      );
    }
    await fc.assert(
      fc.asyncProperty(undeclared, async ({ c, admin }) => {
        check(c, await send(c), admin);
      }),
      { numRuns: Math.max(1, CASES - perOperation * operations.length) },
    );
    expect(tally.cases).toBeGreaterThanOrEqual(CASES);
  });

  it('is still alive and answering afterwards, with no unhandled error logged', async () => {
    // Act
    const health = await call(server!.url, 'GET', '/health');
    const predict = await call(server!.url, 'POST', '/predict', { body: { user_id: 'after', ad_id: 'fuzz-ad' } });

    // Assess
    expect(health.status).toBe(200);
    expect(predict.status).toBe(200);
    expect(server!.proc.exitCode).toBeNull();
    expect(server!.stderr()).not.toMatch(/unhandled error/);
  });
});
