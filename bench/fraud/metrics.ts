/** Precision and recall of the flags against the benchmark's truth. */
import type { LakeRow } from '../../lambdas/core/ports.js';
import type { Pattern } from './traffic.js';

export interface Score {
  readonly flagged: number;
  readonly truePositives: number;
  readonly falsePositives: number;
  readonly fraud: number;
  /** NaN when nothing was flagged (or nothing was fraud, for recall). */
  readonly precision: number;
  readonly recall: number;
}

export interface Flagged {
  readonly ids: ReadonlySet<string>;
  /** Every rule that fired on each flagged event. */
  readonly rules: ReadonlyMap<string, readonly string[]>;
  /** Sites with at least one `site_ctr_outlier` flag. */
  readonly outlierSites: ReadonlySet<string>;
}

export function readFlags(rows: readonly LakeRow['row'][]): Flagged {
  const ids = new Set<string>();
  const rules = new Map<string, readonly string[]>();
  const outlierSites = new Set<string>();
  for (const row of rows) {
    const id = row.event_id as string;
    const fired = (JSON.parse(row.detail as string) as { rules: string[] }).rules;
    ids.add(id);
    rules.set(id, fired);
    if (fired.includes('site_ctr_outlier') && typeof row.site_id === 'string') outlierSites.add(row.site_id);
  }
  return { ids, rules, outlierSites };
}

export function score(flagged: ReadonlySet<string>, fraud: ReadonlySet<string>): Score {
  let tp = 0;
  for (const id of flagged) if (fraud.has(id)) tp++;
  return {
    flagged: flagged.size,
    truePositives: tp,
    falsePositives: flagged.size - tp,
    fraud: fraud.size,
    precision: flagged.size === 0 ? Number.NaN : tp / flagged.size,
    recall: fraud.size === 0 ? Number.NaN : tp / fraud.size,
  };
}

/** The fraud clicks of one pattern (all patterns when omitted). */
export function fraudOf(truth: ReadonlyMap<string, Pattern>, pattern?: Pattern): Set<string> {
  const ids = new Set<string>();
  for (const [id, p] of truth) if (pattern === undefined || p === pattern) ids.add(id);
  return ids;
}

/** Per rule: events it fired on, and how many of them are fraud. */
export function byRule(
  flagged: Flagged,
  truth: ReadonlyMap<string, Pattern>,
): Record<string, { flagged: number; fraud: number }> {
  const out: Record<string, { flagged: number; fraud: number }> = {};
  for (const [id, rules] of flagged.rules) {
    for (const rule of rules) {
      const entry = out[rule] ?? { flagged: 0, fraud: 0 };
      out[rule] = entry;
      entry.flagged++;
      if (truth.has(id)) entry.fraud++;
    }
  }
  return out;
}
