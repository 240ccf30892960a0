/** How the AWS adapters read an SDK error: worth another attempt or final, and in one line for logs. */

/** Client faults that a later attempt may not meet (the rest of the client faults are final). */
const RETRYABLE_CLIENT_ERRORS: ReadonlySet<string> = new Set([
  'ProvisionedThroughputExceededException',
  'KMSThrottlingException',
  'LimitExceededException',
  'ThrottlingException',
  'RequestTimeout',
  'RequestTimeoutException',
]);

/** Throttling, server faults and network errors may pass on a retry; other client faults will not. */
export function isRetryableSdkError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { name?: string; $fault?: string; $retryable?: unknown };
  if (e.$retryable) return true;
  if (e.$fault === 'client') return RETRYABLE_CLIENT_ERRORS.has(e.name ?? '');
  // Server faults, and errors without $fault: timeouts and network errors never reached the service.
  return true;
}

export function describeError(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
