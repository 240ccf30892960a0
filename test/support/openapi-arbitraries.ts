/**
 * fast-check arbitraries generated from an OpenAPI 3 document (the one the server serves at
 * `/openapi.json`): for each operation, requests whose parameters and bodies follow its schemas
 * (valid-ish: within types, lengths, patterns, enums and bounds), near them (a required field
 * dropped, a value of the wrong type or on an edge, an unknown field) or nowhere near them.
 * Only the JSON Schema keywords the document uses are understood; others are ignored.
 */
import fc from 'fast-check';
import { anyValue, type Body, edgeValue, type Json } from './fuzz-arbitraries.js';

export interface Schema {
  readonly $ref?: string;
  readonly type?: string;
  readonly properties?: Readonly<Record<string, Schema>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean | Schema;
  readonly items?: Schema;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: string;
  readonly format?: string;
  readonly enum?: readonly Json[];
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: boolean | number;
  readonly nullable?: boolean;
  readonly anyOf?: readonly Schema[];
  readonly oneOf?: readonly Schema[];
  readonly allOf?: readonly Schema[];
}

export interface Parameter {
  readonly name: string;
  readonly in: 'path' | 'query' | 'header' | 'cookie';
  readonly required?: boolean;
  readonly schema?: Schema;
}

export interface Operation {
  readonly operationId?: string;
  readonly parameters?: readonly Parameter[];
  readonly requestBody?: {
    readonly required?: boolean;
    readonly content: Readonly<Record<string, { schema?: Schema }>>;
  };
  readonly security?: readonly Readonly<Record<string, readonly string[]>>[];
}

export interface OpenApiDocument {
  readonly paths: Readonly<Record<string, Readonly<Record<string, Operation>>>>;
  readonly components?: { readonly schemas?: Readonly<Record<string, Schema>> };
}

/** One operation of the document, by method and path template. */
export interface OperationRef {
  readonly method: string;
  readonly path: string;
  readonly operation: Operation;
}

const METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options']);

/** Every operation of the document. */
export function operationsOf(doc: OpenApiDocument): OperationRef[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => METHODS.has(method))
      .map(([method, operation]) => ({ method: method.toUpperCase(), path, operation })),
  );
}

/** The schema a `$ref` points at (only `#/components/schemas/...`). */
function resolve(doc: OpenApiDocument, schema: Schema): Schema {
  let s = schema;
  for (let i = 0; s.$ref !== undefined && i < 10; i++) {
    const name = s.$ref.replace('#/components/schemas/', '');
    const target = doc.components?.schemas?.[name];
    if (!target) throw new Error(`unresolved $ref ${s.$ref}`);
    s = target;
  }
  return s;
}

/** A pattern of the document as a RegExp: some carry their flags after a slash (`^...$/u`). */
function patternOf(pattern: string): RegExp | null {
  const flagged = /^(.*)\/([gimsuy]+)$/s.exec(pattern);
  try {
    return flagged ? new RegExp(flagged[1]!, flagged[2]!.replace('g', '')) : new RegExp(pattern);
  } catch {
    return null;
  }
}

/** Times near now (events must be at most 5 minutes ahead, within retention): from 3 days ago to 2 minutes ahead. */
export const recentTimestamp: fc.Arbitrary<string> = fc
  .integer({ min: -3 * 86_400_000, max: 120_000 })
  .map((offset) => new Date(Date.now() + offset).toISOString());

function stringArb(s: Schema): fc.Arbitrary<string> {
  if (s.format === 'date-time') return recentTimestamp;
  if (s.format === 'binary') return fc.string({ unit: 'binary', maxLength: 64 });
  const minLength = s.minLength ?? 0;
  const maxLength = Math.min(s.maxLength ?? 40, 300);
  const fits = (v: string) => v.length >= minLength && v.length <= maxLength;
  const re = s.pattern === undefined ? null : patternOf(s.pattern);
  if (re) {
    // Short ones mostly: ids of a handful of characters exercise the same checks as long ones.
    return fc.oneof(
      fc.stringMatching(re).filter(fits),
      fc.constantFrom('a', 'ad-1', 'u_1', 'x'.repeat(maxLength)).filter(fits),
    );
  }
  return fc.string({ minLength, maxLength: Math.min(maxLength, minLength + 24) });
}

function numberArb(s: Schema, integer: boolean): fc.Arbitrary<number> {
  const exclusive = s.exclusiveMinimum === true;
  const min = typeof s.exclusiveMinimum === 'number' ? s.exclusiveMinimum : (s.minimum ?? -1e6);
  const max = s.maximum ?? 1e6;
  if (integer) return fc.integer({ min: Math.ceil(exclusive ? min + 1 : min), max: Math.floor(max) });
  return fc.double({ min, max, noNaN: true, noDefaultInfinity: true }).filter((v) => !exclusive || v > min);
}

/**
 * Values the schema allows (as far as its keywords go). `depth` bounds recursion: past it an
 * object gets only its required properties and an array its minimum of items.
 */
export function validArbitrary(doc: OpenApiDocument, schema: Schema, depth = 0): fc.Arbitrary<Json> {
  const s = resolve(doc, schema);
  const alternatives = s.anyOf ?? s.oneOf;
  if (alternatives) return fc.oneof(...alternatives.map((a) => validArbitrary(doc, a, depth + 1)));
  if (s.allOf) {
    return fc
      .tuple(...s.allOf.map((a) => validArbitrary(doc, a, depth + 1)))
      .map((parts) => Object.assign({}, ...parts.filter((p) => typeof p === 'object' && p !== null)));
  }
  const base = baseArbitrary(doc, s, depth);
  return s.nullable ? fc.oneof({ weight: 1, arbitrary: fc.constant(null) }, { weight: 5, arbitrary: base }) : base;
}

function baseArbitrary(doc: OpenApiDocument, s: Schema, depth: number): fc.Arbitrary<Json> {
  if (s.enum) return fc.constantFrom(...s.enum);
  switch (s.type) {
    case 'string':
      return stringArb(s);
    case 'integer':
      return numberArb(s, true);
    case 'number':
      return numberArb(s, false);
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array': {
      const minLength = s.minItems ?? 0;
      const maxLength = Math.max(minLength, Math.min(s.maxItems ?? 4, depth > 2 ? minLength : 4));
      return fc.array(validArbitrary(doc, s.items ?? {}, depth + 1), { minLength, maxLength });
    }
    case 'object':
      return objectArb(doc, s, depth);
    default:
      // `{nullable: true}` alone, or no type at all: anything.
      return s.nullable ? fc.constant(null) : fc.jsonValue({ maxDepth: 2 });
  }
}

/** Names of the document's flat maps (features, attributes): a letter then letters, digits and `_ . : -`. */
const mapKey = fc.stringMatching(/^[a-z_][a-z0-9_.:-]{0,15}$/);

function objectArb(doc: OpenApiDocument, s: Schema, depth: number): fc.Arbitrary<Json> {
  const required = s.required ?? [];
  const props = Object.entries(s.properties ?? {}).filter(([k]) => depth < 4 || required.includes(k));
  const fixed = fc.record(Object.fromEntries(props.map(([k, v]) => [k, validArbitrary(doc, v, depth + 1)])), {
    requiredKeys: required.filter((k) => props.some(([p]) => p === k)),
  });
  if (typeof s.additionalProperties !== 'object') return fixed;
  const extra = fc.dictionary(mapKey, validArbitrary(doc, s.additionalProperties, depth + 1), { maxKeys: 6 });
  return fc.tuple(fixed, extra).map(([f, e]) => ({ ...e, ...f }));
}

/** A value of the schema with one or two things wrong (or, now and then, nothing wrong). */
export function nearValidArbitrary(doc: OpenApiDocument, schema: Schema): fc.Arbitrary<Json> {
  const s = resolve(doc, schema);
  const valid = validArbitrary(doc, s);
  const keys = Object.keys(s.properties ?? {});
  const wrong = fc.oneof(edgeValue, anyValue);
  const mutations: fc.Arbitrary<Json>[] = [valid, wrong];
  if (s.type === 'object') {
    const asObject = valid.filter((v): v is Record<string, Json> => typeof v === 'object' && v !== null);
    mutations.push(
      fc
        .tuple(asObject, fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('__proto__', 'constructor')), wrong)
        .map(([v, k, x]) => ({ ...v, [k]: x })),
    );
    if (keys.length > 0) {
      mutations.push(
        fc.tuple(asObject, fc.constantFrom(...keys)).map(([v, k]) => {
          const copy = { ...v };
          delete copy[k];
          return copy;
        }),
        fc.tuple(asObject, fc.constantFrom(...keys), wrong).map(([v, k, x]) => ({ ...v, [k]: x })),
        // A property's own value near valid: the mutation one level down.
        fc
          .constantFrom(...keys)
          .chain((k) => fc.tuple(asObject, fc.constant(k), nearValidArbitrary(doc, s.properties![k]!)))
          .map(([v, k, x]) => ({ ...v, [k]: x })),
      );
    }
  }
  if (s.type === 'array' && s.items) {
    const items = nearValidArbitrary(doc, s.items);
    mutations.push(fc.array(items, { minLength: 0, maxLength: Math.min(s.maxItems ?? 6, 6) }));
  }
  return fc.oneof(...mutations);
}

/** A body for an operation: of its schema, near it, anything JSON, text, bytes, or none. */
export function bodyArbitrary(doc: OpenApiDocument, operation: Operation): fc.Arbitrary<Body> {
  const content = operation.requestBody?.content ?? {};
  const json = content['application/json']?.schema;
  const structured: fc.Arbitrary<Body>[] = json
    ? [
        validArbitrary(doc, json).map((value): Body => ({ kind: 'json', value })),
        nearValidArbitrary(doc, json).map((value): Body => ({ kind: 'json', value })),
        nearValidArbitrary(doc, json).map((value): Body => ({ kind: 'json', value })),
      ]
    : [];
  return fc.oneof(
    ...structured,
    fc.constant<Body>({ kind: 'none' }),
    fc.jsonValue({ maxDepth: 3 }).map((value): Body => ({ kind: 'json', value })),
    fc.string({ unit: 'binary', maxLength: 200 }).map((value): Body => ({ kind: 'string', value })),
    fc.uint8Array({ maxLength: 1024 }).map((value): Body => ({ kind: 'bytes', value })),
  );
}

/** A query string (without `?`) from the operation's query parameters: valid values, wrong ones, some left out. */
export function queryArbitrary(doc: OpenApiDocument, operation: Operation): fc.Arbitrary<string> {
  const params = (operation.parameters ?? []).filter((p) => p.in === 'query');
  if (params.length === 0) return fc.constantFrom('', 'x=1', 'limit=-1');
  const scalar = (v: Json) => (typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v));
  const value = (p: Parameter) =>
    fc.oneof(
      { weight: 6, arbitrary: validArbitrary(doc, p.schema ?? {}).map(scalar) },
      { weight: 1, arbitrary: edgeValue.map(scalar) },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
    );
  return fc
    .tuple(
      ...params.map((p) =>
        fc.oneof(
          { weight: p.required ? 8 : 3, arbitrary: value(p).map((v): [string, string] | null => [p.name, v]) },
          { weight: 1, arbitrary: fc.constant(null) },
        ),
      ),
    )
    .map((pairs) => new URLSearchParams(pairs.filter((p): p is [string, string] => p !== null)).toString());
}
