import type { App } from '../app.js';
import { MethodNotAllowedError, NotFoundError, ValidationError } from '../errors.js';
import { parseOrThrow } from '../validation.js';
import type { ApiResponse, Route } from './route.js';

interface CompiledRoute<A> {
  readonly route: Route<A>;
  readonly regex: RegExp;
  readonly names: readonly string[];
}

export interface RouteMatch<A = App> {
  readonly route: Route<A>;
  /** Raw (still percent-decoded) path parameters, validated by `invoke`. */
  readonly params: Record<string, string>;
}

/** Matches method and path against the route table; 404 and 405 are decided here, once. */
export class Router<A = App> {
  private readonly compiled: CompiledRoute<A>[];

  constructor(routes: readonly Route<A>[]) {
    this.compiled = routes.map((route) => {
      const names: string[] = [];
      const pattern = route.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{(\w+)\}/g, (_, name: string) => {
        names.push(name);
        return '([^/]+)';
      });
      return { route, regex: new RegExp(`^${pattern}$`), names };
    });
  }

  /** HEAD matches GET routes (RFC 9110 §9.3.2); the transport leaves the body out. */
  match(method: string, path: string): RouteMatch<A> {
    const allow: string[] = [];
    const wanted = method === 'HEAD' ? 'GET' : method;
    for (const c of this.compiled) {
      const m = c.regex.exec(path);
      if (!m) continue;
      if (c.route.method !== wanted) {
        allow.push(c.route.method);
        if (c.route.method === 'GET') allow.push('HEAD');
        continue;
      }
      const params: Record<string, string> = {};
      for (let i = 0; i < c.names.length; i++) {
        const raw = m[i + 1]!;
        let value: string;
        try {
          value = decodeURIComponent(raw);
        } catch {
          throw new ValidationError(`Path parameter ${c.names[i]} is not valid percent-encoding.`, [
            { path: c.names[i]!, message: 'is not valid percent-encoding' },
          ]);
        }
        params[c.names[i]!] = value;
      }
      return { route: c.route, params };
    }
    if (allow.length > 0) throw new MethodNotAllowedError(`${method} is not allowed on ${path}.`, allow);
    throw new NotFoundError(`No route for ${method} ${path}.`);
  }
}

/** Validates path parameters, query parameters and body against the route's schemas, then runs its use case. */
export async function invoke<A>(
  app: A,
  match: RouteMatch<A>,
  input: { query: Record<string, string>; body: unknown; baseUrl?: string },
): Promise<ApiResponse> {
  const { route } = match;
  const params = route.params ? parseOrThrow(route.params, match.params, 'path parameters') : match.params;
  const query = route.query ? parseOrThrow(route.query, input.query, 'query parameters') : input.query;
  let body = input.body;
  if (route.body?.kind === 'json') {
    if (body === undefined && route.body.optional) body = {};
    if (body === undefined)
      throw new ValidationError('A JSON body is required.', [{ path: '(body)', message: 'is required' }]);
    const { parse, schema } = route.body;
    if (parse) body = parse(body);
    else if (schema) body = parseOrThrow(schema, body);
    else throw new Error(`route ${route.operationId} has neither a parser nor a schema for its body`);
  }
  return route.handle(app, { params, query, body, baseUrl: input.baseUrl });
}
