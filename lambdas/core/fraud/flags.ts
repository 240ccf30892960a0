import type { FraudFlag, FraudRule } from '../ports.js';

/**
 * A click as the rules remember it. One object per click, shared by the user's and the IP's
 * windows, the site's recent clicks and the waiting list, so that a flag set through one of them
 * is seen by all.
 */
export interface ClickRecord {
  readonly id: string;
  readonly userId: string | null;
  readonly ip: string | null;
  readonly atMs: number;
  /** Hash of the click id (never 0), to tell a replay of this click from another click. */
  readonly idHash: number;
  /** Keys of the click's own user and IP (or NO_KEY); the impression's are used when absent. */
  userKey: number;
  ipKey: number;
  /** Whether the click-rate rules have counted it (they wait for its impression when they lack a key). */
  rateCounted: boolean;
  siteId: string | null;
  /** The site-statistics slot and absolute bucket the click was counted in, or -1. */
  site: number;
  siteBucket: number;
  /** Set once the click has been flagged (in this inspection or an earlier one). */
  flagged: boolean;
}

/** Severities are in [0.5, 0.99]: 0.5 at a rule's threshold, towards 1 as evidence grows. */
export const MAX_SEVERITY = 0.99;
const MAX_SCORE = 0.999;

export function severity(s: number): number {
  return Math.min(MAX_SEVERITY, Math.max(0.5, s));
}

interface Pending {
  readonly record: ClickRecord;
  readonly rules: FraudRule[];
  readonly severities: number[];
  readonly detail: Record<string, string | number | boolean | null>;
}

/**
 * Gathers the flags of one inspection. An event is flagged once: the rules that fire on it in
 * the same inspection are merged into one flag, and an event flagged by an earlier inspection is
 * not flagged again (its `suspicious_events` row exists; the lake keeps one row per event).
 */
export class FlagCollector {
  private pending: Map<ClickRecord, Pending> | null = null;
  readonly counts: Record<FraudRule, number> = {
    user_click_rate: 0,
    ip_click_rate: 0,
    click_before_impression: 0,
    click_too_fast: 0,
    duplicate_click: 0,
    site_ctr_outlier: 0,
  };

  /** Records that `rule` fired on the click; false when it was flagged by an earlier inspection. */
  add(
    record: ClickRecord,
    rule: FraudRule,
    ruleSeverity: number,
    detail: Readonly<Record<string, string | number | boolean | null>>,
  ): boolean {
    this.pending ??= new Map();
    let entry = this.pending.get(record);
    if (entry === undefined) {
      if (record.flagged) return false;
      record.flagged = true;
      entry = { record, rules: [], severities: [], detail: {} };
      this.pending.set(record, entry);
    }
    if (entry.rules.includes(rule)) return true;
    entry.rules.push(rule);
    entry.severities.push(severity(ruleSeverity));
    Object.assign(entry.detail, detail);
    this.counts[rule]++;
    return true;
  }

  /** The flags gathered since the last drain. */
  drain(): FraudFlag[] {
    const pending = this.pending;
    if (pending === null || pending.size === 0) return [];
    this.pending = null;
    const flags: FraudFlag[] = [];
    for (const { record, rules, severities, detail } of pending.values()) {
      let top = 0;
      let clean = 1;
      for (let i = 0; i < severities.length; i++) {
        if (severities[i]! > severities[top]!) top = i;
        clean *= 1 - severities[i]!;
      }
      flags.push({
        eventId: record.id,
        eventType: 'click',
        rule: rules[top]!,
        rules,
        score: Math.min(MAX_SCORE, round4(1 - clean)),
        userId: record.userId,
        ip: record.ip,
        siteId: record.siteId,
        atMs: record.atMs,
        detail,
      });
    }
    return flags;
  }
}

export function round4(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}
