import { ValidationError } from '../errors.js';
import { parseTimestamp } from '../schemas/rfc3339.js';
import type { CoreConfig } from './deps.js';

const DAY_MS = 86_400_000;

/**
 * A caller-supplied time (an event's, or a prediction request's), refused when further ahead than
 * the clock-skew allowance or older than the lake keeps rows: the one rule for every time a
 * client may state.
 */
export function checkedEventTime(
  timestamp: string,
  path: string,
  now: Date,
  config: Pick<CoreConfig, 'maxFutureSkewMs' | 'retentionDays'>,
): Date {
  const at = parseTimestamp(timestamp);
  const { maxFutureSkewMs, retentionDays } = config;
  if (at.getTime() > now.getTime() + maxFutureSkewMs) {
    throw new ValidationError(`${path} is more than ${maxFutureSkewMs / 60_000} minutes in the future`, [
      { path, message: `is more than ${maxFutureSkewMs / 60_000} minutes in the future` },
    ]);
  }
  if (at.getTime() < now.getTime() - retentionDays * DAY_MS) {
    throw new ValidationError(`${path} is older than the lake's retention of ${retentionDays} days`, [
      { path, message: `is older than the lake's retention of ${retentionDays} days` },
    ]);
  }
  return at;
}
