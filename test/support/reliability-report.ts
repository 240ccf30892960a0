/**
 * Counts of the reliability suites (`npm run test:reliability`): each suite prints its counts on
 * stdout and, when the run's global setup named a directory, writes them there as JSON; the
 * global setup (test/reliability/global-setup.ts) merges them into one summary at the end.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where the suites of one `npm run test:reliability` write their counts (set by its global setup). */
export const REPORT_DIR_ENV = 'ADCLICK_RELIABILITY_REPORT_DIR';

export type Counts = Readonly<Record<string, number | string>>;

/** Prints `counts` of `suite` and, under test:reliability, files them for the summary. */
export function reportCounts(suite: string, counts: Counts): void {
  const line = Object.entries(counts)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  console.log(`[reliability] ${suite}: ${line}`);
  const dir = process.env[REPORT_DIR_ENV];
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  const file = `${suite.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}.json`;
  writeFileSync(join(dir, file), `${JSON.stringify({ suite, at: new Date().toISOString(), counts }, null, 2)}\n`);
}

/** The value of an integer environment variable, or `fallback` when unset. */
export function envCount(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, not ${raw}`);
  return n;
}

/** The p-th percentile (0-100) of `values`, nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}
