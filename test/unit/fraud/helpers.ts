/** Builders of fraud events for the rule tests: times are offsets in ms from T0. */
import type { FraudRulesConfig } from '../../../lambdas/core/fraud/config.js';
import { RuleFraudDetector } from '../../../lambdas/core/fraud/detector.js';
import type { FraudEvent, FraudFlag } from '../../../lambdas/core/ports.js';

export const T0_MS = Date.parse('2026-12-04T10:00:00Z');
export const SECOND = 1_000;
export const MINUTE = 60_000;

export function impression(
  id: string,
  atOffsetMs: number,
  patch: Partial<{ userId: string; ip: string | null; siteId: string | null }> = {},
): FraudEvent {
  return {
    kind: 'impression',
    id,
    userId: patch.userId ?? `user-of-${id}`,
    ip: patch.ip === undefined ? `ip-of-${id}` : patch.ip,
    siteId: patch.siteId === undefined ? null : patch.siteId,
    atMs: T0_MS + atOffsetMs,
  };
}

export function click(
  id: string,
  impressionId: string,
  atOffsetMs: number,
  patch: Partial<{ userId: string | null; ip: string | null; clicked: boolean }> = {},
): FraudEvent {
  return {
    kind: 'click',
    id,
    impressionId,
    userId: patch.userId === undefined ? null : patch.userId,
    ip: patch.ip === undefined ? null : patch.ip,
    clicked: patch.clicked ?? true,
    atMs: T0_MS + atOffsetMs,
  };
}

/** A detector with the defaults, or `config` over them. */
export function detector(config: Partial<FraudRulesConfig> = {}): RuleFraudDetector {
  return new RuleFraudDetector(config);
}

/** Feeds the events one inspection each (as single-event requests would) and returns every flag. */
export function feedOneByOne(d: RuleFraudDetector, events: readonly FraudEvent[]): FraudFlag[] {
  return events.flatMap((e) => d.inspectNow([e]));
}

export const ids = (flags: readonly FraudFlag[]): string[] => flags.map((f) => f.eventId).sort();

export const flagOf = (flags: readonly FraudFlag[], eventId: string): FraudFlag | undefined =>
  flags.find((f) => f.eventId === eventId);

/**
 * `count` impressions each followed by a click from the same user and IP, `spacingMs` apart,
 * each click `delayMs` after its impression (timestamps ordered as they would arrive).
 */
export function clicksFrom(
  prefix: string,
  count: number,
  spacingMs: number,
  patch: { userId?: string; ip?: string; startMs?: number; delayMs?: number } = {},
): FraudEvent[] {
  const start = patch.startMs ?? 0;
  const delay = patch.delayMs ?? 5 * SECOND;
  const events: FraudEvent[] = [];
  for (let i = 0; i < count; i++) {
    const at = start + i * spacingMs;
    events.push(
      impression(`${prefix}-i${i}`, at, {
        userId: patch.userId ?? `${prefix}-u${i}`,
        ip: patch.ip ?? `${prefix}-ip${i}`,
      }),
    );
  }
  for (let i = 0; i < count; i++) {
    const at = start + i * spacingMs + delay;
    events.push(
      click(`${prefix}-c${i}`, `${prefix}-i${i}`, at, {
        userId: patch.userId ?? null,
        ip: patch.ip ?? null,
      }),
    );
  }
  return byTime(events);
}

/** Events in event-time order (stable: an impression stays before a click of the same time). */
export function byTime(events: readonly FraudEvent[]): FraudEvent[] {
  return [...events].sort((a, b) => a.atMs - b.atMs);
}
