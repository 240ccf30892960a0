/** How numbers and times read on the page (UTC, like the API). */

export function percent(x: number | null | undefined, digits = 2): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '–' : `${(x * 100).toFixed(digits)} %`;
}

export function decimal(x: number | null | undefined, digits = 4): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(digits);
}

export function count(x: number | null | undefined): string {
  return x === null || x === undefined ? '–' : x.toLocaleString('en-US');
}

/** `2026-12-04 10:00 UTC`, or only the date. */
export function utc(value: string | number | null | undefined, dateOnly = false): string {
  if (value === null || value === undefined) return '–';
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return String(value);
  const iso = d.toISOString();
  return dateOnly ? iso.slice(0, 10) : `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

/** A relative lift with its interval: `+12.3 % [−1.0 %, +25.6 %]`. */
export function lift(l: { estimate: number; lower: number; upper: number } | null): string {
  if (!l) return '–';
  const signed = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(1)} %`;
  return `${signed(l.estimate)} [${signed(l.lower)}, ${signed(l.upper)}]`;
}
