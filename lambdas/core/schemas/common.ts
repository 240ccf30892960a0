import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import * as z from 'zod';
import {
  FEATURE_NAME,
  MAX_FEATURE_KEY_LENGTH,
  MAX_FEATURE_STRING_LENGTH,
  MAX_FEATURES,
  MAX_ID_LENGTH,
  PRINTABLE_ID,
} from './limits.js';
import { parseRfc3339 } from './rfc3339.js';

// The limits and the timestamp parser live in zod-free modules so that the predict function's
// hot path (schemas/predict-validation.ts) can use them without loading zod.
export * from './limits.js';
export * from './rfc3339.js';

// Only ZodType is patched; passing the namespace itself would make bundlers keep all of zod
// (its 40 locales: ~370 kB of the Lambda bundle) since the whole object escapes.
extendZodWithOpenApi({ ZodType: z.ZodType } as unknown as typeof z);

/** 1-128 printable ASCII characters (no controls, no spaces at the ends would matter to joins). */
export const Id = z
  .string()
  .min(1, 'must not be empty')
  .max(MAX_ID_LENGTH, `must be at most ${MAX_ID_LENGTH} characters`)
  .regex(PRINTABLE_ID, 'must be printable ASCII without leading or trailing spaces');

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
      .regex(FEATURE_NAME, 'feature names are letters, digits, _ . : - and start with a letter or _'),
    FeatureValue,
  )
  .refine((m) => Object.keys(m).length <= MAX_FEATURES, `at most ${MAX_FEATURES} features`);

export const Features = z.preprocess(noProtoKey, FeatureMap).openapi('Features', {
  description:
    'Flat map (at most 64 keys) of request-time context (device_type, location, site_id, slot, position, ...).',
  example: { device_type: 'mobile', site_id: 's42', position: 1 },
});
export type Features = z.infer<typeof Features>;
