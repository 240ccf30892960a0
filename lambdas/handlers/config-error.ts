/**
 * How every function fails on a bad environment: its own module, so a stream consumer can use it
 * without loading the API's configuration (and the adapters that one names).
 */
import type * as z from 'zod';

/** Thrown at the first invoke of a misconfigured function: names every variable at fault. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid Lambda configuration (environment variables): ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

/** One line per variable at fault, naming it and what is wrong, never its value. */
export function describeConfigIssues(
  issues: readonly z.core.$ZodIssue[],
  env: Readonly<Record<string, string | undefined>>,
): string[] {
  return issues.map((i) => {
    const variable = String(i.path[0] ?? '(environment)');
    return env[variable] === undefined ? `${variable} is not set` : `${variable} ${i.message}`;
  });
}

/** The environment checked against a function's schema once; a ConfigError names each variable at fault. */
export function parseEnvironment<T extends z.core.$ZodType>(
  schema: T & {
    safeParse(
      input: unknown,
    ): { success: true; data: z.output<T> } | { success: false; error: { issues: z.core.$ZodIssue[] } };
  },
  env: Readonly<Record<string, string | undefined>>,
): z.output<T> {
  // Full zod or zod/mini (the predict function's, which loads no more than it needs).
  const parsed = schema.safeParse(env);
  if (!parsed.success) throw new ConfigError(describeConfigIssues(parsed.error.issues, env));
  return parsed.data;
}
