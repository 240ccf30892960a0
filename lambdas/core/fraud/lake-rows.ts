/**
 * Between the lake's rows and the fraud rules: a flag becomes a `suspicious_events` row, and a
 * lake row of `ad_impressions` or `clicks` (what the Kinesis streams carry in AWS) becomes the
 * event the rules inspect, so a stream consumer runs exactly the rules the local server runs.
 */
import type { FraudEvent, FraudFlag, LakeRow } from '../ports.js';

/** The `suspicious_events` row of a flag; `detail` holds every rule that fired and its evidence. */
export function suspiciousEventRow(flag: FraudFlag): LakeRow {
  return {
    table: 'suspicious_events',
    row: {
      event_id: flag.eventId,
      event_type: flag.eventType,
      rule: flag.rule,
      score: flag.score,
      user_id: flag.userId,
      ip: flag.ip,
      site_id: flag.siteId,
      detail: JSON.stringify({ rules: flag.rules, ...flag.detail }),
      timestamp: new Date(flag.atMs),
    },
  };
}

/** The site of an impression from its request features (`site_id`), if it names one. */
export function siteIdOf(features: Readonly<Record<string, unknown>> | null | undefined): string | null {
  const site = features?.site_id;
  if (typeof site === 'string') return site;
  if (typeof site === 'number' && Number.isFinite(site)) return String(site);
  return null;
}

function timeOf(value: unknown): number {
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'string' || typeof value === 'number') return new Date(value).getTime();
  return Number.NaN;
}

const str = (value: unknown): string | null => (typeof value === 'string' ? value : null);

/**
 * The fraud event of an `ad_impressions` or `clicks` lake row (timestamps as Date, RFC 3339 text
 * or epoch ms; `features` as JSON text), or null for another table or a row without an id or time.
 */
export function fraudEventFromLakeRow(lakeRow: LakeRow): FraudEvent | null {
  const { table, row } = lakeRow;
  const atMs = timeOf(row.timestamp);
  if (Number.isNaN(atMs)) return null;
  if (table === 'ad_impressions') {
    const id = str(row.impression_id);
    const userId = str(row.user_id);
    if (id === null || userId === null) return null;
    let features: Record<string, unknown> | null = null;
    if (typeof row.features === 'string') {
      try {
        const parsed: unknown = JSON.parse(row.features);
        if (parsed !== null && typeof parsed === 'object') features = parsed as Record<string, unknown>;
      } catch {
        features = null;
      }
    }
    return { kind: 'impression', id, userId, ip: str(row.ip), siteId: siteIdOf(features), atMs };
  }
  if (table === 'clicks') {
    const id = str(row.click_id);
    const impressionId = str(row.impression_id);
    if (id === null || impressionId === null) return null;
    return {
      kind: 'click',
      id,
      impressionId,
      userId: str(row.user_id),
      ip: str(row.ip),
      clicked: row.clicked === true,
      atMs,
    };
  }
  return null;
}
