/**
 * API Gateway request models generated from the routes' zod schemas: zod → JSON Schema draft 4
 * (the dialect API Gateway validates) → the CDK's JsonSchema shape. The gateway then refuses a
 * malformed body before a function is invoked; the function's own zod parse stays the reference.
 */
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as z from 'zod';

/** JSON Schema keywords API Gateway's draft-4 validator takes, with their CDK property names. */
const KEYWORDS: Readonly<Record<string, keyof apigateway.JsonSchema>> = {
  $schema: 'schema',
  $ref: 'ref',
  id: 'id',
  title: 'title',
  description: 'description',
  default: 'default',
  format: 'format',
  type: 'type',
  enum: 'enum',
  multipleOf: 'multipleOf',
  minimum: 'minimum',
  maximum: 'maximum',
  exclusiveMinimum: 'exclusiveMinimum',
  exclusiveMaximum: 'exclusiveMaximum',
  minLength: 'minLength',
  maxLength: 'maxLength',
  pattern: 'pattern',
  items: 'items',
  additionalItems: 'additionalItems',
  minItems: 'minItems',
  maxItems: 'maxItems',
  uniqueItems: 'uniqueItems',
  properties: 'properties',
  patternProperties: 'patternProperties',
  additionalProperties: 'additionalProperties',
  required: 'required',
  minProperties: 'minProperties',
  maxProperties: 'maxProperties',
  dependencies: 'dependencies',
  definitions: 'definitions',
  allOf: 'allOf',
  anyOf: 'anyOf',
  oneOf: 'oneOf',
  not: 'not',
};

/** Keywords whose value is a map of schemas, and those whose value is a schema or a list of them. */
const SCHEMA_MAPS = new Set(['properties', 'patternProperties', 'definitions', 'dependencies']);
const SCHEMA_VALUES = new Set(['items', 'additionalItems', 'additionalProperties', 'allOf', 'anyOf', 'oneOf', 'not']);

type Json = Record<string, unknown>;

/** One JSON Schema (draft 4) object as the CDK's JsonSchema; an unknown keyword fails synth, naming it. */
export function toApiGatewaySchema(schema: Json, at = '#'): apigateway.JsonSchema {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    const name = KEYWORDS[key];
    if (name === undefined) throw new Error(`JSON Schema keyword "${key}" at ${at} has no API Gateway equivalent.`);
    if (key === '$schema') out[name] = apigateway.JsonSchemaVersion.DRAFT4;
    else if (SCHEMA_MAPS.has(key) && value !== null && typeof value === 'object' && !Array.isArray(value)) {
      out[name] = Object.fromEntries(
        Object.entries(value as Json).map(([k, v]) => [
          k,
          Array.isArray(v) ? v : toApiGatewaySchema(v as Json, `${at}/${key}/${k}`),
        ]),
      );
    } else if (SCHEMA_VALUES.has(key) && typeof value === 'object' && value !== null) {
      out[name] = Array.isArray(value)
        ? value.map((v, i) => toApiGatewaySchema(v as Json, `${at}/${key}/${i}`))
        : toApiGatewaySchema(value as Json, `${at}/${key}`);
    } else out[name] = value;
  }
  return out as apigateway.JsonSchema;
}

/** The request model of a zod body schema: what a client may send (the input side of transforms). */
export function requestModelSchema(schema: z.ZodType): apigateway.JsonSchema {
  const json = z.toJSONSchema(schema, {
    target: 'draft-4',
    io: 'input',
    // Shared sub-schemas are inlined: an API Gateway model may only $ref other models by URL.
    reused: 'inline',
    // A refinement or transform has no JSON Schema: the function's zod parse still checks it.
    unrepresentable: 'any',
  }) as Json;
  return toApiGatewaySchema(json);
}
