/**
 * What a training-set build is asked for, validated, and the positional parameters of
 * `sql/training/training-set.sql` it turns into (the order that file's header lists).
 */
import * as z from 'zod';
import { DEFAULT_ATTRIBUTION_WINDOW_SECONDS } from '../../../core/lake/attribution.js';
import { partitionOf } from '../../../core/lake/tables.js';
import type { SqlParam } from './lake-database.js';

export const TRAINING_SET_QUERY = 'training/training-set';
/** The longest range one build covers (the analytics routes' bound too). */
export const MAX_RANGE_DAYS = 92;
/** The longest attribution window: a week. */
export const MAX_WINDOW_SECONDS = 7 * 86_400;

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

export interface TrainingSetRequestIssue {
  /** The request field: from, to, cutoff, windowSeconds or negativeRate. */
  readonly field: string;
  readonly message: string;
}

/** A request that cannot be built; `issues` say which values and why. */
export class TrainingSetRequestError extends Error {
  override readonly name = 'TrainingSetRequestError';
  constructor(readonly issues: readonly TrainingSetRequestIssue[]) {
    super(issues.map((i) => `${i.field} ${i.message}`).join('; '));
  }
}

const ValidDate = z.date().refine((d) => Number.isFinite(d.getTime()), 'must be a valid time');

export const TrainingSetRequestSchema = z
  .object({
    /** Impressions shown at or after this (a whole hour, UTC). */
    from: ValidDate.refine((d) => d.getTime() % HOUR_MS === 0, 'must be a whole hour (UTC), e.g. 2026-12-01T10:00Z'),
    /** ... and before this (a whole hour, UTC). */
    to: ValidDate.refine((d) => d.getTime() % HOUR_MS === 0, 'must be a whole hour (UTC), e.g. 2026-12-02T00:00Z'),
    /** The build's cut-off: impressions whose window has not passed by then are left out. */
    cutoff: ValidDate,
    windowSeconds: z.number().int('must be a whole number of seconds').min(1).max(MAX_WINDOW_SECONDS),
    /** Share of negatives kept, in (0, 1]. */
    negativeRate: z.number().gt(0, 'must be in (0, 1]').max(1, 'must be in (0, 1] (1 keeps every negative)'),
  })
  .strict()
  .superRefine((r, ctx) => {
    const span = r.to.getTime() - r.from.getTime();
    if (span <= 0) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be after from' });
    else if (span > MAX_RANGE_DAYS * DAY_MS) {
      ctx.addIssue({ code: 'custom', path: ['to'], message: `must be at most ${MAX_RANGE_DAYS} days after from` });
    }
  });

export type TrainingSetRequest = z.infer<typeof TrainingSetRequestSchema>;

export interface TrainingSetRequestInput {
  readonly from: Date;
  readonly to: Date;
  /** Default: now. */
  readonly cutoff?: Date;
  /** Default: DEFAULT_ATTRIBUTION_WINDOW_SECONDS. */
  readonly windowSeconds?: number;
  /** Default: 1 (keep every negative). */
  readonly negativeRate?: number;
}

/** The request with its defaults, or a TrainingSetRequestError naming every bad value. */
export function trainingSetRequest(input: TrainingSetRequestInput): TrainingSetRequest {
  const parsed = TrainingSetRequestSchema.safeParse({
    from: input.from,
    to: input.to,
    cutoff: input.cutoff ?? new Date(),
    windowSeconds: input.windowSeconds ?? DEFAULT_ATTRIBUTION_WINDOW_SECONDS,
    negativeRate: input.negativeRate ?? 1,
  });
  if (!parsed.success) {
    throw new TrainingSetRequestError(
      parsed.error.issues.map((i) => ({ field: i.path.join('.') || 'request', message: i.message })),
    );
  }
  return parsed.data;
}

/** A time as the SQL files bind it: `YYYY-MM-DD HH:MM:SS.mmm` (UTC). */
export function sqlTimestamp(d: Date): string {
  return d.toISOString().replace('T', ' ').replace('Z', '');
}

const dtOf = (ms: number) => partitionOf(new Date(ms)).dt;

/**
 * The end (exclusive) of the impressions a build labels: `to`, or, when the cut-off comes too soon
 * for that, the whole hour at or before cutoff − window (an impression shown later than cutoff −
 * window is not mature yet). Whole hours, so that every hour a build writes is complete. At or
 * before `from`, the build has nothing to label.
 */
export function labelledUntil(r: TrainingSetRequest): Date {
  const mature = r.cutoff.getTime() - r.windowSeconds * 1000;
  return new Date(Math.min(r.to.getTime(), Math.floor(mature / HOUR_MS) * HOUR_MS));
}

/**
 * The parameters of sql/training/training-set.sql, in the order its header lists them: the
 * impressions in [from, to) mature at the cut-off.
 */
export function queryParams(q: TrainingSetRequest): SqlParam[] {
  const from = q.from.getTime();
  const to = q.to.getTime();
  const window = q.windowSeconds * 1000;
  const flags = [dtOf(from), dtOf(to + window)];
  const predictions = [dtOf(from - window), dtOf(to + window)];
  return [
    ...flags,
    ...predictions,
    dtOf(from),
    dtOf(to - 1),
    sqlTimestamp(q.from),
    sqlTimestamp(q.to),
    sqlTimestamp(q.cutoff),
    q.windowSeconds,
    dtOf(from),
    dtOf(to + window),
    q.windowSeconds,
    ...predictions,
    ...predictions,
    q.windowSeconds,
    q.windowSeconds,
    q.negativeRate,
    q.negativeRate,
    q.negativeRate,
  ];
}

/** The query parameters of a build: its impressions up to labelledUntil. */
export function trainingSetParams(r: TrainingSetRequest): SqlParam[] {
  return queryParams({ ...r, to: labelledUntil(r) });
}

/** The impression hours a build labels and owns, [from, labelledUntil), as `YYYY-MM-DDTHH` (UTC). */
export function impressionHours(r: TrainingSetRequest): string[] {
  const hours: string[] = [];
  for (let t = r.from.getTime(); t < labelledUntil(r).getTime(); t += HOUR_MS)
    hours.push(impressionHourKey(new Date(t)));
  return hours;
}

export function impressionHourKey(d: Date): string {
  return d.toISOString().slice(0, 13);
}
