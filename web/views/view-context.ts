import type { ApiClient } from '../api-client.js';
import type { TimeRange } from '../time-range.js';

/** What every view gets from the page. */
export interface ViewContext {
  readonly api: ApiClient;
  readonly range: TimeRange;
  /** Says something in the page's status line (read out politely by screen readers). */
  announce(message: string): void;
}

/** The range as the analytics routes take it. */
export function rangeQuery(ctx: ViewContext): { from: string; to: string } {
  return { from: ctx.range.from, to: ctx.range.to };
}
