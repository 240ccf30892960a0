/**
 * The predict routes' request validation without zod: the predict function's cold start is the one
 * an ad request waits for, and zod (with the schemas and their OpenAPI metadata) is a fifth of its
 * module init. The zod schemas in schemas/predict.ts stay the contract (the OpenAPI document and the
 * types); test/unit/core/predict-validation.test.ts checks with generated inputs that this accepts
 * exactly what they accept, returns the same value and names the same fields when it refuses.
 */
import { type FieldError, ValidationError } from '../errors.js';
import type { Features } from '../schemas/common.js';
import {
  FEATURE_NAME,
  MAX_BATCH,
  MAX_FEATURE_KEY_LENGTH,
  MAX_FEATURE_STRING_LENGTH,
  MAX_FEATURES,
  MAX_ID_LENGTH,
  PRINTABLE_ID,
} from '../schemas/limits.js';
import type { PredictBatchRequest, PredictRequest } from '../schemas/predict.js';
import { parseRfc3339 } from '../schemas/rfc3339.js';
import { summarise } from '../validation.js';

type Errors = FieldError[];

const TIMESTAMP_MESSAGE =
  'must be an RFC 3339 timestamp with a zone and a real date and time, e.g. 2026-12-04T10:00:00Z';

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

const expected = (what: string, v: unknown) => `Invalid input: expected ${what}, received ${typeName(v)}`;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A dotted path as validation.ts's fieldErrors writes it: empty parts (an empty key) are left out. */
function join(path: string, key: string): string {
  return [path, key].filter((p) => p !== '').join('.');
}

function checkId(v: unknown, path: string, errors: Errors): void {
  if (typeof v !== 'string') {
    errors.push({ path, message: v === undefined ? 'is required' : expected('string', v) });
    return;
  }
  if (v.length < 1) errors.push({ path, message: 'must not be empty' });
  if (v.length > MAX_ID_LENGTH) errors.push({ path, message: `must be at most ${MAX_ID_LENGTH} characters` });
  if (!PRINTABLE_ID.test(v))
    errors.push({ path, message: 'must be printable ASCII without leading or trailing spaces' });
}

function checkBoolean(v: unknown, path: string, errors: Errors): void {
  if (typeof v !== 'boolean') errors.push({ path, message: expected('boolean', v) });
}

function checkTimestamp(v: unknown, path: string, errors: Errors): void {
  if (typeof v !== 'string') {
    errors.push({ path, message: expected('string', v) });
    return;
  }
  if (v.length > 40) errors.push({ path, message: 'Too big: expected string to have <=40 characters' });
  if (Number.isNaN(parseRfc3339(v))) errors.push({ path, message: TIMESTAMP_MESSAGE });
}

function isFeatureValue(v: unknown): boolean {
  return (
    v === null ||
    typeof v === 'boolean' ||
    (typeof v === 'number' && Number.isFinite(v)) ||
    (typeof v === 'string' && v.length <= MAX_FEATURE_STRING_LENGTH)
  );
}

/** Returns a copy of the map (as zod would), or undefined when it is refused. */
function checkFeatures(v: unknown, path: string, errors: Errors): Features | undefined {
  if (!isRecord(v)) {
    errors.push({ path, message: expected('record', v) });
    return undefined;
  }
  // JSON.parse keeps `__proto__` as an own key, which any copy would turn into the prototype.
  if (Object.hasOwn(v, '__proto__')) {
    errors.push({ path: join(path, '__proto__'), message: 'is a reserved name' });
    return undefined;
  }
  const before = errors.length;
  const out: Record<string, Features[string]> = {};
  const keys = Object.keys(v);
  for (const key of keys) {
    const at = join(path, key);
    if (key.length < 1 || key.length > MAX_FEATURE_KEY_LENGTH || !FEATURE_NAME.test(key)) {
      errors.push({ path: at, message: 'Invalid key in record' });
      continue;
    }
    const value = v[key];
    if (!isFeatureValue(value)) {
      errors.push({
        path: at,
        message: `must be a string of at most ${MAX_FEATURE_STRING_LENGTH} characters, a finite number, a boolean or null`,
      });
      continue;
    }
    out[key] = value as Features[string];
  }
  if (errors.length > before) return undefined;
  if (keys.length > MAX_FEATURES) {
    errors.push({ path, message: `at most ${MAX_FEATURES} features` });
    return undefined;
  }
  return out;
}

function rejectUnknown(v: Record<string, unknown>, known: ReadonlySet<string>, path: string, errors: Errors): void {
  for (const key of Object.keys(v)) {
    if (!known.has(key)) errors.push({ path: join(path, key), message: 'is not a known field' });
  }
}

const COMMON_FIELDS = ['user_id', 'features', 'request_id', 'consent', 'explain', 'timestamp'] as const;
const PREDICT_FIELDS = new Set<string>([...COMMON_FIELDS, 'ad_id']);
const BATCH_FIELDS = new Set<string>([...COMMON_FIELDS, 'ads']);
const AD_FIELDS = new Set(['ad_id', 'features']);

type Common = Omit<PredictRequest, 'ad_id'>;

/** The fields both requests share, copied into `out` when valid. */
function checkCommon(v: Record<string, unknown>, errors: Errors): Partial<Common> {
  const out: Partial<Common> = {};
  checkId(v.user_id, 'user_id', errors);
  out.user_id = v.user_id as string;
  if (v.features !== undefined) {
    const features = checkFeatures(v.features, 'features', errors);
    if (features) out.features = features;
  }
  if (v.request_id !== undefined) {
    checkId(v.request_id, 'request_id', errors);
    out.request_id = v.request_id as string;
  }
  for (const key of ['consent', 'explain'] as const) {
    if (v[key] !== undefined) {
      checkBoolean(v[key], key, errors);
      out[key] = v[key] as boolean;
    }
  }
  if (v.timestamp !== undefined) {
    checkTimestamp(v.timestamp, 'timestamp', errors);
    out.timestamp = v.timestamp as string;
  }
  return out;
}

function fail(errors: Errors): never {
  throw new ValidationError(`Invalid body: ${summarise(errors)}`, errors);
}

/** `POST /predict`'s body, as schemas/predict.ts's PredictRequest parses it, or a ValidationError. */
export function parsePredictRequest(input: unknown): PredictRequest {
  if (!isRecord(input)) fail([{ path: '(body)', message: expected('object', input) }]);
  const errors: Errors = [];
  const out = checkCommon(input, errors);
  checkId(input.ad_id, 'ad_id', errors);
  rejectUnknown(input, PREDICT_FIELDS, '', errors);
  if (errors.length > 0) fail(errors);
  return { ...out, ad_id: input.ad_id } as PredictRequest;
}

/** `POST /predict/batch`'s body, as PredictBatchRequest parses it, or a ValidationError. */
export function parsePredictBatchRequest(input: unknown): PredictBatchRequest {
  if (!isRecord(input)) fail([{ path: '(body)', message: expected('object', input) }]);
  const errors: Errors = [];
  const out = checkCommon(input, errors);
  const ads: PredictBatchRequest['ads'] = [];
  const list = input.ads;
  if (!Array.isArray(list)) {
    errors.push({ path: 'ads', message: list === undefined ? 'is required' : expected('array', list) });
  } else {
    list.forEach((ad, i) => {
      const at = join('ads', String(i));
      if (!isRecord(ad)) {
        errors.push({ path: at, message: expected('object', ad) });
        return;
      }
      checkId(ad.ad_id, join(at, 'ad_id'), errors);
      const entry: PredictBatchRequest['ads'][number] = { ad_id: ad.ad_id as string };
      if (ad.features !== undefined) {
        const features = checkFeatures(ad.features, join(at, 'features'), errors);
        if (features) entry.features = features;
      }
      rejectUnknown(ad, AD_FIELDS, at, errors);
      ads.push(entry);
    });
    if (list.length < 1) errors.push({ path: 'ads', message: 'must hold at least one ad' });
    if (list.length > MAX_BATCH) errors.push({ path: 'ads', message: `must hold at most ${MAX_BATCH} ads` });
  }
  rejectUnknown(input, BATCH_FIELDS, '', errors);
  if (errors.length > 0) fail(errors);
  return { ...out, ads } as PredictBatchRequest;
}
