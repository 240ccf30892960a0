import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import * as z from 'zod';

// Only ZodType is patched; passing the namespace itself would make bundlers keep all of zod
// (its 40 locales: ~370 kB of the Lambda bundle) since the whole object escapes.
extendZodWithOpenApi({ ZodType: z.ZodType } as unknown as typeof z);

export const MAX_ID_LENGTH = 128;
export const MAX_FEATURES = 64;
export const MAX_FEATURE_KEY_LENGTH = 64;
export const MAX_FEATURE_STRING_LENGTH = 256;
export const MAX_BATCH = 500;
/** Largest JSON body any route accepts; the artifact upload has its own limit. */
export const MAX_BODY_BYTES = 256 * 1024;

/** 1-128 printable ASCII characters (no controls, no spaces at the ends would matter to joins). */
export const Id = z
  .string()
  .min(1, 'must not be empty')
  .max(MAX_ID_LENGTH, `must be at most ${MAX_ID_LENGTH} characters`)
  .regex(/^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/, 'must be printable ASCII without leading or trailing spaces');

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

/** RFC 3339 with an explicit zone; parsed to a Date (stored as UTC). */
export const Timestamp = z
  .string()
  .max(40)
  .refine(
    (s) => !Number.isNaN(parseRfc3339(s)),
    'must be an RFC 3339 timestamp with a zone and a real date and time, e.g. 2026-12-04T10:00:00Z',
  )
  .openapi({ format: 'date-time', example: '2026-12-04T10:00:00Z' });

export const FeatureValue = z.union([
  z.string().max(MAX_FEATURE_STRING_LENGTH),
  z.number().refine(Number.isFinite, 'must be a finite number'),
  z.boolean(),
  z.null(),
]);
export type FeatureValue = z.infer<typeof FeatureValue>;

/**
 * JSON.parse keeps a `__proto__` key as an own property, but any object copy turns it into the
 * prototype and the feature silently vanishes: refuse it, by name, before parsing the map.
 */
const noProtoKey = (v: unknown, ctx: z.RefinementCtx) => {
  if (v !== null && typeof v === 'object' && Object.hasOwn(v, '__proto__')) {
    ctx.addIssue({ code: 'custom', path: ['__proto__'], message: 'is a reserved name' });
  }
  return v;
};

const FeatureMap = z
  .record(
    z
      .string()
      .min(1)
      .max(MAX_FEATURE_KEY_LENGTH)
      .regex(/^[A-Za-z_][A-Za-z0-9_.:-]*$/, 'feature names are letters, digits, _ . : - and start with a letter or _'),
    FeatureValue,
  )
  .refine((m) => Object.keys(m).length <= MAX_FEATURES, `at most ${MAX_FEATURES} features`);

export const Features = z.preprocess(noProtoKey, FeatureMap).openapi('Features', {
  description:
    'Flat map (at most 64 keys) of request-time context (device_type, location, site_id, slot, position, ...).',
  example: { device_type: 'mobile', site_id: 's42', position: 1 },
});
export type Features = z.infer<typeof Features>;

export function parseTimestamp(s: string): Date {
  return new Date(parseRfc3339(s));
}
