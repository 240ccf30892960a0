/** RFC 3339 timestamps with a zone, parsed strictly and without zod (the predict path's validator uses it too). */
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Epoch milliseconds of an RFC 3339 timestamp with a zone, or NaN when any field is out of
 * range. Parsed field by field, once: Date.parse would roll 30 February over into March (and
 * file the event under another partition), and this runs for every event on the ingest path.
 */
export function parseRfc3339(s: string): number {
  // Validation and the use case parse each event's timestamp one after the other: remember the last.
  if (s === lastParsed) return lastParsedMillis;
  const millis = parseRfc3339Fields(s);
  lastParsed = s;
  lastParsedMillis = millis;
  return millis;
}

let lastParsed: string | undefined;
let lastParsedMillis = Number.NaN;

function parseRfc3339Fields(s: string): number {
  const m = RFC3339.exec(s);
  if (!m) return Number.NaN;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  const h = Number(m[4]);
  const mi = Number(m[5]);
  const sec = Number(m[6]);
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const days = mo === 2 && leap ? 29 : DAYS_IN_MONTH[mo - 1];
  if (days === undefined || d < 1 || d > days || h > 23 || mi > 59 || sec > 59) return Number.NaN;
  let offsetMin = 0;
  if (m[8] !== undefined) {
    const oh = Number(m[9]);
    const om = Number(m[10]);
    if (oh > 23 || om > 59) return Number.NaN;
    offsetMin = (m[8] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const millis = m[7] === undefined ? 0 : Math.floor(Number(`0${m[7]}`) * 1000);
  return Date.UTC(y, mo - 1, d, h, mi, sec, millis) - offsetMin * 60_000;
}

export function parseTimestamp(s: string): Date {
  return new Date(parseRfc3339(s));
}
