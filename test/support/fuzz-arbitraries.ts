/**
 * Arbitraries of the fuzz suites (test/e2e/fuzz.test.ts, test/reliability/openapi-fuzz.test.ts):
 * values on the edges of the schemas, near-valid bodies, content types, path parameters, and the
 * one check every answer must pass (no 5xx; a 4xx is problem+json whose status matches).
 */
import fc from 'fast-check';
import type { HttpResult } from './e2e-server.js';

export type Json = unknown;

/** Strings that sit on the edges of the schemas: ids, timestamps, prototype keys, sizes. */
export const edgeValue: fc.Arbitrary<Json> = fc.constantFrom<Json>(
  '',
  ' ',
  ' padded ',
  'a'.repeat(128),
  'a'.repeat(129),
  'x'.repeat(300),
  '\u0000',
  'é',
  '💥',
  '__proto__',
  'constructor',
  '2026-02-30T10:00:00Z',
  '2026-12-04T24:00:00Z',
  '2026-12-04T10:00:00+24:00',
  '2026-12-04T10:00:00',
  '9999-12-31T23:59:59Z',
  '0000-01-01T00:00:00Z',
  '1970-01-01T00:00:00.123456789Z',
  '999.999.999.999',
  '::ffff:1.2.3.4',
  -1,
  0,
  1e308,
  -1e308,
  Number.MAX_SAFE_INTEGER + 2,
  0.1,
  true,
  false,
  null,
  [],
  {},
  { __proto__: null, a: 1 },
  JSON.parse('{"__proto__": {"polluted": true}}'),
  Array.from({ length: 65 }, (_, i) => i),
  Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`f${i}`, i])),
);

export const anyValue: fc.Arbitrary<Json> = fc.oneof(edgeValue, fc.jsonValue({ maxDepth: 3 }));

/** A valid body mutated: a field dropped, replaced, or an unknown one added (or left as it is). */
export function nearValid(valid: () => Record<string, Json>): fc.Arbitrary<Json> {
  const keys = Object.keys(valid());
  return fc.oneof(
    fc.constant(null).map(() => valid()),
    fc.constantFrom(...keys).map((k) => {
      const body = valid();
      delete body[k];
      return body;
    }),
    fc.tuple(fc.constantFrom(...keys), anyValue).map(([k, v]) => ({ ...valid(), [k]: v })),
    fc
      .tuple(fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('__proto__', 'constructor')), anyValue)
      .map(([k, v]) => ({ ...valid(), [k]: v })),
    fc
      .tuple(fc.constantFrom(...keys), fc.constantFrom(...keys), anyValue, anyValue)
      .map(([k1, k2, v1, v2]) => ({ ...valid(), [k1]: v1, [k2]: v2 })),
  );
}

export const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'APPLICATION/JSON',
  'application/problem+json',
  'application/gzip',
  'application/octet-stream',
  'text/plain',
  'text/html; charset=latin1',
  'multipart/form-data; boundary=xyz',
  'application/x-www-form-urlencoded',
  '',
  ';',
  'application/',
];
export const headerSafe = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) });
export type Body =
  | { kind: 'none' }
  | { kind: 'json'; value: Json }
  | { kind: 'string'; value: string }
  | { kind: 'bytes'; value: Uint8Array };

/** A path parameter: a known id, a random one (encoded), an over-long one or broken percent-encoding. */
export function paramArb(known: () => string[]): fc.Arbitrary<string> {
  const encode = (s: string) => encodeURIComponent(s);
  return fc.oneof(
    fc.constant(null).chain(() => fc.constantFrom(...known())),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }).map(encode),
    fc.constantFrom('%', '%E0%A4%A', '%ZZ', '%00', '%20lead', 'x'.repeat(200), '..', '%2F', 'a%2Fb'),
  );
}

/** The body as fetch sends it (fetch sends none with GET or HEAD). */
export function bodyToSend(method: string, body: Body): string | Uint8Array | undefined {
  if (body.kind === 'none' || method === 'GET' || method === 'HEAD') return undefined;
  return body.kind === 'json' ? JSON.stringify(body.value) : body.value;
}

/** What is wrong with an answer, or null: a 5xx, or a 4xx that is not problem+json of its status. */
export function insaneAnswer(res: Pick<HttpResult, 'status' | 'headers' | 'json'>): string | null {
  if (res.status >= 500) return `a ${res.status}`;
  if (res.status >= 400) {
    if (!res.headers.get('content-type')?.includes('application/problem+json'))
      return `a ${res.status} that is not problem+json`;
    if (res.json?.status !== res.status) return `a ${res.status} whose problem says status ${res.json?.status}`;
  }
  return null;
}
