import { OpenAPIRegistry, OpenApiGeneratorV3, type ZodRequestBody } from '@asteasolutions/zod-to-openapi';
import * as z from 'zod';
// The OpenAPI extension of zod is applied there; it must run before any schema is built.
import '../schemas/common.js';
import { PROBLEM_CONTENT_TYPE } from './problem.js';
import type { Route } from './route.js';

const Problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })),
  })
  .openapi('Problem');

/** The OpenAPI 3 document, generated from the route table and its zod schemas. */
export function openApiDocument(routes: readonly Route[], version: string): Record<string, unknown> {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'apiKey', { type: 'apiKey', in: 'header', name: 'x-api-key' });
  registry.registerComponent('securitySchemes', 'adminToken', { type: 'http', scheme: 'bearer' });
  for (const route of routes) {
    const responses: Record<string, object> = {};
    for (const [status, r] of Object.entries(route.responses)) {
      responses[status] = r.schema
        ? { description: r.description, content: { 'application/json': { schema: r.schema } } }
        : { description: r.description, content: { [PROBLEM_CONTENT_TYPE]: { schema: Problem } } };
    }
    let body: ZodRequestBody | undefined;
    if (route.body?.kind === 'json') {
      if (!route.body.schema) throw new Error(`${route.operationId}'s body has no schema to document`);
      body = { required: !route.body.optional, content: { 'application/json': { schema: route.body.schema } } };
    } else if (route.body?.kind === 'binary') {
      body = {
        required: true,
        content: Object.fromEntries(
          route.body.contentTypes.map((t) => [t, { schema: z.string().openapi({ format: 'binary' }) }]),
        ),
      };
    }
    registry.registerPath({
      method: route.method.toLowerCase() as 'get',
      path: route.path,
      operationId: route.operationId,
      summary: route.summary,
      tags: [route.tag],
      security: route.access === 'open' ? [] : [{ [route.access === 'admin' ? 'adminToken' : 'apiKey']: [] }],
      request: {
        ...(route.params ? { params: route.params } : {}),
        ...(route.query ? { query: route.query } : {}),
        ...(body ? { body } : {}),
      },
      responses,
    });
  }
  return new OpenApiGeneratorV3(registry.definitions).generateDocument({
    openapi: '3.0.3',
    info: {
      title: 'adclick',
      version,
      description:
        'Real-time ad click prediction: predict, log events, manage models. Errors are RFC 9457 problem+json.',
    },
  }) as unknown as Record<string, unknown>;
}
