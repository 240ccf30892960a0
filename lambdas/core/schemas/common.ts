import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';

extendZodWithOpenApi(z);

export { z };

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

/**
 * True when every field of an RFC 3339 text is in range. Date.parse alone is not enough: it
 * rolls 30 February over into March, which would file the event under another partition.
 */
function isCalendarValid(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})/.exec(s);
  if (!m) return false;
  const [y, mo, d, h, mi, sec] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const probe = new Date(Date.UTC(y, mo - 1, d, h, mi, sec));
  const sameFields =
    probe.getUTCFullYear() === y &&
    probe.getUTCMonth() === mo - 1 &&
    probe.getUTCDate() === d &&
    probe.getUTCHours() === h &&
    probe.getUTCMinutes() === mi &&
    probe.getUTCSeconds() === sec;
  const offset = /([+-])(\d{2}):(\d{2})$/.exec(s);
  const offsetOk = !offset || (Number(offset[2]) <= 23 && Number(offset[3]) <= 59);
  return sameFields && offsetOk && !Number.isNaN(Date.parse(s.replace(' ', 'T')));
}

/** RFC 3339 with an explicit zone; parsed to a Date (stored as UTC). */
export const Timestamp = z
  .string()
  .max(40)
  .regex(
    /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})$/,
    'must be an RFC 3339 timestamp with a zone, e.g. 2026-12-04T10:00:00Z',
  )
  .refine(isCalendarValid, 'is not a valid date and time (day, hour or offset out of range)')
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
  return new Date(Date.parse(s.replace(' ', 'T')));
}
