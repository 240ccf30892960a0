/**
 * The time windows of a retrain (docs/retraining.md): training impressions in [from, to), the
 * time-later holdout in [to, to + holdout hours), both ending no later than the last labelled hour
 * (the cut-off minus the attribution window, floored to the hour). Unset, the holdout is a fifth of
 * the whole range and the training range is 7 days.
 */
const HOUR_MS = 3_600_000;
export const DEFAULT_TRAINING_DAYS = 7;
/** The holdout's default share of the whole range [from, to + holdout). */
export const DEFAULT_HOLDOUT_SHARE = 0.2;

export interface RetrainWindowsInput {
  readonly from?: Date;
  readonly to?: Date;
  readonly holdoutHours?: number;
  readonly cutoff: Date;
  readonly windowSeconds: number;
}

export interface TimeWindow {
  readonly from: Date;
  readonly to: Date;
}

export interface RetrainWindows {
  readonly train: TimeWindow;
  readonly holdout: TimeWindow;
  /** Impressions before this are labelled at the cut-off. */
  readonly labelledUntil: Date;
}

/** A retrain that cannot run as asked; the message names the option and what to do. */
export class RetrainError extends Error {
  override readonly name = 'RetrainError';
}

const iso = (d: Date) => d.toISOString();
const wholeHour = (d: Date) => d.getTime() % HOUR_MS === 0;

export function retrainWindows(input: RetrainWindowsInput): RetrainWindows {
  const labelledUntil = new Date(Math.floor((input.cutoff.getTime() - input.windowSeconds * 1000) / HOUR_MS) * HOUR_MS);
  for (const [name, d] of [
    ['--from', input.from],
    ['--to', input.to],
  ] as const) {
    if (d && !wholeHour(d)) throw new RetrainError(`${name} ${iso(d)} must be a whole hour (UTC)`);
  }
  const h = input.holdoutHours;
  if (h !== undefined && (!Number.isInteger(h) || h < 1 || h > 24 * 92)) {
    throw new RetrainError(`--holdout-hours must be a whole number of hours in [1, ${24 * 92}], got ${h}`);
  }
  let from: Date;
  let to: Date;
  let hours: number;
  if (input.to) {
    to = input.to;
    from = input.from ?? new Date(to.getTime() - DEFAULT_TRAINING_DAYS * 86_400_000);
    if (to.getTime() <= from.getTime()) throw new RetrainError(`--to ${iso(to)} must be after --from ${iso(from)}`);
    const share = DEFAULT_HOLDOUT_SHARE / (1 - DEFAULT_HOLDOUT_SHARE);
    hours = h ?? Math.max(1, Math.round((share * (to.getTime() - from.getTime())) / HOUR_MS));
  } else {
    const wholeRange = input.from
      ? labelledUntil.getTime() - input.from.getTime()
      : (DEFAULT_TRAINING_DAYS * 86_400_000) / (1 - DEFAULT_HOLDOUT_SHARE);
    hours = h ?? Math.max(1, Math.round((DEFAULT_HOLDOUT_SHARE * wholeRange) / HOUR_MS));
    to = new Date(labelledUntil.getTime() - hours * HOUR_MS);
    from = input.from ?? new Date(to.getTime() - DEFAULT_TRAINING_DAYS * 86_400_000);
    if (to.getTime() <= from.getTime()) {
      throw new RetrainError(
        `--from ${iso(from)} leaves no training range before the ${hours} h holdout that ends at the last labelled hour ${iso(labelledUntil)}`,
      );
    }
  }
  const holdoutEnd = new Date(to.getTime() + hours * HOUR_MS);
  if (holdoutEnd.getTime() > labelledUntil.getTime()) {
    throw new RetrainError(
      `the holdout [${iso(to)}, ${iso(holdoutEnd)}) ends after the last labelled hour ${iso(labelledUntil)} (the cut-off ${iso(input.cutoff)} minus the ${input.windowSeconds} s attribution window): move --to earlier or shorten --holdout-hours`,
    );
  }
  return { train: { from, to }, holdout: { from: to, to: holdoutEnd }, labelledUntil };
}
