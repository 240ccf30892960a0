import type { z } from 'zod';
import { type FieldError, ValidationError } from './errors.js';

/** zod issues as the problem document's `errors`: a dotted path and a message per issue. */
export function fieldErrors(error: z.ZodError, prefix = ''): FieldError[] {
  return error.issues.flatMap((issue) => {
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [undefined];
    return keys.map((key) => {
      const parts = [...issue.path, ...(key === undefined ? [] : [key])].map(String);
      const path = [prefix, ...parts].filter((p) => p !== '').join('.');
      const message =
        issue.code === 'unrecognized_keys'
          ? 'is not a known field'
          : issue.code === 'invalid_type' && / received undefined$/.test(issue.message)
            ? 'is required'
            : issue.message;
      return { path: path === '' ? '(body)' : path, message };
    });
  });
}

export function summarise(errors: readonly FieldError[]): string {
  const shown = errors
    .slice(0, 3)
    .map((e) => `${e.path} ${e.message}`)
    .join('; ');
  return errors.length > 3 ? `${shown}; and ${errors.length - 3} more` : shown;
}

/** Parses `input` with `schema` or throws a ValidationError naming every offending field. */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, where = 'body', prefix = ''): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const errors = fieldErrors(result.error, prefix);
  throw new ValidationError(`Invalid ${where}: ${summarise(errors)}`, errors);
}
