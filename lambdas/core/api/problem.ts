import { DomainError, MethodNotAllowedError } from '../errors.js';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

const STATUS: Record<DomainError['kind'], { status: number; title: string }> = {
  invalid: { status: 400, title: 'Invalid request' },
  unauthorized: { status: 401, title: 'Unauthorized' },
  forbidden: { status: 403, title: 'Forbidden' },
  'not-found': { status: 404, title: 'Not found' },
  'method-not-allowed': { status: 405, title: 'Method not allowed' },
  conflict: { status: 409, title: 'Conflict' },
  'too-large': { status: 413, title: 'Payload too large' },
  'unsupported-media-type': { status: 415, title: 'Unsupported media type' },
  throttled: { status: 429, title: 'Too many requests' },
  unavailable: { status: 503, title: 'Service unavailable' },
};

export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly errors: readonly { path: string; message: string }[];
  readonly [extension: string]: unknown;
}

/**
 * The one mapping from errors to RFC 9457 problem documents. Anything that is not a DomainError
 * is a bug: it becomes a bare 500 whose body says nothing about internals or user data.
 */
export function toProblem(err: unknown): { status: number; body: Problem; headers: Record<string, string> } {
  const headers: Record<string, string> = { 'content-type': PROBLEM_CONTENT_TYPE };
  if (err instanceof DomainError) {
    const { status, title } = STATUS[err.kind];
    if (err instanceof MethodNotAllowedError) headers.allow = err.allow.join(', ');
    if (err.kind === 'unauthorized') headers['www-authenticate'] = 'Bearer';
    return {
      status,
      headers,
      body: {
        type: `urn:adclick:problem:${err.kind}`,
        title,
        status,
        detail: err.message,
        errors: err.errors,
        ...err.extensions,
      },
    };
  }
  return {
    status: 500,
    headers,
    body: {
      type: 'urn:adclick:problem:internal',
      title: 'Internal error',
      status: 500,
      detail: 'The server failed to handle the request; it has been logged.',
      errors: [],
    },
  };
}
