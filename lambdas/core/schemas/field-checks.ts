/**
 * The zod-free field checks shared by the hand-written validators (predict-validation.ts,
 * event-validation.ts). Each one refuses exactly what its zod schema in schemas/common.ts refuses
 * and words the error as validation.ts's fieldErrors words that schema's zod issues, in zod's order,
 * for any JSON value (what a request body can hold). A check that passes allocates nothing: paths
 * are joined only on failure, since these run for every event on the ingest path.
 */
import type { FieldError } from '../errors.js';
import type { Features } from './common.js';
import {
  FEATURE_NAME,
  MAX_FEATURE_KEY_LENGTH,
  MAX_FEATURE_STRING_LENGTH,
  MAX_FEATURES,
  MAX_ID_LENGTH,
  PRINTABLE_ID,
} from './limits.js';
import { parseRfc3339 } from './rfc3339.js';

export type Errors = FieldError[];

export const TIMESTAMP_MESSAGE =
  'must be an RFC 3339 timestamp with a zone and a real date and time, e.g. 2026-12-04T10:00:00Z';

/** What zod's messages call the type of `v` ("received array", "received NaN"...). */
function typeName(v: unknown): string {
  if (typeof v === 'number') return Number.isFinite(v) ? 'number' : String(v);
  if (typeof v !== 'object') return typeof v;
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  const proto: unknown = Object.getPrototypeOf(v);
  const ctor = proto !== Object.prototype && 'constructor' in v ? (v.constructor as { name?: unknown }) : undefined;
  return ctor ? String(ctor.name) : 'object';
}

/** zod's invalid_type message, or fieldErrors' "is required" when the value is missing. */
export function expected(what: string, v: unknown): string {
  return v === undefined ? 'is required' : `Invalid input: expected ${what}, received ${typeName(v)}`;
}

/** An object as zod's object, record and discriminated union take one. */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A dotted path as validation.ts's fieldErrors writes it: empty parts (an empty key) are left out. */
export function join(path: string, key: string): string {
  if (path === '') return key;
  return key === '' ? path : `${path}.${key}`;
}

/** A string's length as zod's length checks count it: in code points, not UTF-16 units. */
export function codePoints(s: string): number {
  let count = s.length;
  for (let i = 0; i < s.length - 1; i++) {
    if ((s.charCodeAt(i) & 0xfc00) === 0xd800 && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      count--;
      i++;
    }
  }
  return count;
}

function sizeMessage(issue: 'Too small' | 'Too big', v: unknown, bound: string): string {
  if (Array.isArray(v)) return `${issue}: expected array to have ${bound} items`;
  if (typeof v === 'string') return `${issue}: expected string to have ${bound} characters`;
  return `${issue}: expected unknown to be ${bound}`;
}

/**
 * A zod string schema's `.min(min)` and `.max(max)` (min 0: none), which zod also runs on a value
 * of the wrong type that has a length (an array, an object with a "length" key): their issues follow
 * its invalid_type one. `tooSmall` and `tooBig` are the schema's own messages, if it words them.
 */
export function checkLength(
  v: unknown,
  path: string,
  min: number,
  max: number,
  errors: Errors,
  tooSmall?: string,
  tooBig?: string,
): void {
  if (v === null || v === undefined) return;
  const units = (v as { length?: unknown }).length;
  if (units === undefined) return;
  // Compared as zod compares, whatever the "length" holds.
  const length = (typeof v === 'string' ? codePoints(v) : units) as number;
  if (min > 0 && !(length >= min)) errors.push({ path, message: tooSmall ?? sizeMessage('Too small', v, `>=${min}`) });
  if (!(length <= max)) errors.push({ path, message: tooBig ?? sizeMessage('Too big', v, `<=${max}`) });
}

const ID_TOO_LONG = `must be at most ${MAX_ID_LENGTH} characters`;

/** schemas/common.ts's Id: 1-128 printable ASCII characters without a space at either end. */
export function checkId(v: unknown, parent: string, key: string, errors: Errors): void {
  if (typeof v === 'string' && v.length >= 1 && v.length <= MAX_ID_LENGTH && PRINTABLE_ID.test(v)) return;
  const path = join(parent, key);
  if (typeof v !== 'string') errors.push({ path, message: expected('string', v) });
  checkLength(v, path, 1, MAX_ID_LENGTH, errors, 'must not be empty', ID_TOO_LONG);
  if (typeof v === 'string' && !PRINTABLE_ID.test(v))
    errors.push({ path, message: 'must be printable ASCII without leading or trailing spaces' });
}

export function checkBoolean(v: unknown, parent: string, key: string, errors: Errors): void {
  if (typeof v !== 'boolean') errors.push({ path: join(parent, key), message: expected('boolean', v) });
}

/** schemas/common.ts's Timestamp: at most 40 characters, then RFC 3339 with a zone (both are checked). */
export function checkTimestamp(v: unknown, parent: string, key: string, errors: Errors): void {
  if (typeof v === 'string' && v.length <= 40 && !Number.isNaN(parseRfc3339(v))) return;
  const path = join(parent, key);
  if (typeof v !== 'string') errors.push({ path, message: expected('string', v) });
  checkLength(v, path, 0, 40, errors);
  if (typeof v === 'string' && Number.isNaN(parseRfc3339(v))) errors.push({ path, message: TIMESTAMP_MESSAGE });
}

/**
 * schemas/common.ts's Features: a copy of the map (as zod returns), or undefined when refused. The
 * issues come in zod's order: each key's (a bad name, or a bad value) in the map's key order, then
 * the 64-feature bound, which zod checks only when no key was refused outright (an over-long string
 * value does not stop it; a bad name or a value of the wrong type does).
 */
export function checkFeatures(v: unknown, parent: string, key: string, errors: Errors): Features | undefined {
  // The reserved name is checked first (z.preprocess), and stops the rest.
  if (typeof v === 'object' && v !== null && Object.hasOwn(v, '__proto__')) {
    errors.push({ path: join(join(parent, key), '__proto__'), message: 'is a reserved name' });
    return undefined;
  }
  if (!isRecord(v)) {
    errors.push({ path: join(parent, key), message: expected('record', v) });
    return undefined;
  }
  const out: Record<string, Features[string]> = {};
  let failed = false;
  let stopsBound = false;
  let count = 0;
  for (const name in v) {
    if (!Object.hasOwn(v, name)) continue;
    count++;
    const value = v[name];
    if (name.length < 1 || name.length > MAX_FEATURE_KEY_LENGTH || !FEATURE_NAME.test(name)) {
      errors.push({ path: join(join(parent, key), name), message: 'Invalid key in record' });
      failed = stopsBound = true;
    } else if (
      value === null ||
      typeof value === 'boolean' ||
      (typeof value === 'number' && Number.isFinite(value)) ||
      (typeof value === 'string' && value.length <= MAX_FEATURE_STRING_LENGTH)
    ) {
      out[name] = value;
    } else if (typeof value === 'string') {
      // Over the bound in UTF-16 units, maybe not in code points (as zod counts).
      if (codePoints(value) <= MAX_FEATURE_STRING_LENGTH) {
        out[name] = value;
        continue;
      }
      errors.push({
        path: join(join(parent, key), name),
        message: `Too big: expected string to have <=${MAX_FEATURE_STRING_LENGTH} characters`,
      });
      failed = true;
    } else {
      // No member of the FeatureValue union takes it: zod's invalid_union.
      errors.push({ path: join(join(parent, key), name), message: 'Invalid input' });
      failed = stopsBound = true;
    }
  }
  if (!stopsBound && count > MAX_FEATURES) {
    errors.push({ path: join(parent, key), message: `at most ${MAX_FEATURES} features` });
    return undefined;
  }
  return failed ? undefined : out;
}

/** A strict object's unknown keys, one error each, after the known fields' errors (as zod lists them). */
export function rejectUnknown(
  v: Record<string, unknown>,
  known: ReadonlySet<string>,
  path: string,
  errors: Errors,
): void {
  for (const key in v) {
    if (!known.has(key)) errors.push({ path: join(path, key), message: 'is not a known field' });
  }
}
