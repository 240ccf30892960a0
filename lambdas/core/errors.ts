/**
 * Domain errors. Each names what went wrong in the caller's terms; the API layer maps them to
 * HTTP in one place (api/problem.ts), so use cases never speak HTTP.
 */

export interface FieldError {
  readonly path: string;
  readonly message: string;
}

export abstract class DomainError extends Error {
  abstract readonly kind:
    | 'invalid'
    | 'unauthorized'
    | 'forbidden'
    | 'not-found'
    | 'method-not-allowed'
    | 'conflict'
    | 'too-large'
    | 'unsupported-media-type'
    | 'throttled'
    | 'unavailable';
  readonly errors: readonly FieldError[];
  /** Extra members for the problem document (e.g. the gate's numbers). */
  readonly extensions: Readonly<Record<string, unknown>>;

  constructor(message: string, errors: readonly FieldError[] = [], extensions: Record<string, unknown> = {}) {
    super(message);
    this.name = new.target.name;
    this.errors = errors;
    this.extensions = extensions;
  }
}

export class ValidationError extends DomainError {
  readonly kind = 'invalid' as const;
}
export class UnauthorizedError extends DomainError {
  readonly kind = 'unauthorized' as const;
}
export class ForbiddenError extends DomainError {
  readonly kind = 'forbidden' as const;
}
export class NotFoundError extends DomainError {
  readonly kind = 'not-found' as const;
}
export class MethodNotAllowedError extends DomainError {
  readonly kind = 'method-not-allowed' as const;
  constructor(
    message: string,
    readonly allow: readonly string[],
  ) {
    super(message);
  }
}
export class ConflictError extends DomainError {
  readonly kind = 'conflict' as const;
}
/** The activation gate refused the candidate; `extensions.gate` holds the numbers. */
export class GateRefusedError extends ConflictError {}
export class PayloadTooLargeError extends DomainError {
  readonly kind = 'too-large' as const;
}
export class UnsupportedMediaTypeError extends DomainError {
  readonly kind = 'unsupported-media-type' as const;
}
export class ThrottledError extends DomainError {
  readonly kind = 'throttled' as const;
}
export class DependencyUnavailableError extends DomainError {
  readonly kind = 'unavailable' as const;
}
/** An uploaded model artifact is not a loadable model; the message says why. */
export class InvalidArtifactError extends ValidationError {}
