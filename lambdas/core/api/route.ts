import type { z } from 'zod';
import type { App } from '../app.js';

/** Who may call a route: DESIGN.md "Access". */
export type Access = 'open' | 'ad-server' | 'admin';
export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface ApiRequest<B = unknown, P = Record<string, string>, Q = Readonly<Record<string, string>>> {
  readonly params: P;
  /** The query string: raw text, or the route's `query` schema's output when it has one. */
  readonly query: Q;
  readonly body: B;
  /** Scheme, host and port the caller used, for URLs handed back (the upload URL), if known. */
  readonly baseUrl?: string;
}

export interface ApiResponse {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export type RouteBody =
  | {
      readonly kind: 'json';
      /** The body's contract: validates it unless `parse` is given, and documents it. */
      readonly schema: z.ZodType;
      /**
       * A validator equivalent to `schema` that needs no zod, for a path whose cold start counts (the
       * predict routes: schemas/predict-validation.ts). Throws a ValidationError like parseOrThrow.
       */
      readonly parse?: (input: unknown) => unknown;
      /** An empty body is read as `{}`. */
      readonly optional?: boolean;
    }
  | {
      readonly kind: 'json';
      /** Without zod: documented by the table that adds `schema` (predict-route-docs.ts). */
      readonly schema?: undefined;
      readonly parse: (input: unknown) => unknown;
      readonly optional?: boolean;
    }
  | { readonly kind: 'binary'; readonly maxBytes: number; readonly contentTypes: readonly string[] };

/**
 * One route. `A` is what its use case needs of the App: a function that serves a few routes (the
 * predict function) builds only that much of it.
 */
export interface Route<A = App> {
  readonly method: Method;
  /** OpenAPI-style template, e.g. `/models/{id}`. */
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly tag: string;
  readonly access: Access;
  readonly params?: z.ZodObject;
  /** Query parameters, validated like the body (unknown ones are errors) and documented as such. */
  readonly query?: z.ZodObject;
  readonly body?: RouteBody;
  readonly responses: Readonly<Record<number, { readonly description: string; readonly schema?: z.ZodType }>>;
  // biome-ignore lint/suspicious/noExplicitAny: each route's handler receives its own validated shapes.
  handle(app: A, req: ApiRequest<any, any, any>): Promise<ApiResponse>;
}
