/**
 * The ingest path's event validation without zod: zod's copies and issue machinery cost about a
 * tenth of the server's time per event. The zod schemas in schemas/events.ts stay the contract (the
 * OpenAPI document and the types); test/unit/core/event-validation.test.ts checks with generated
 * events that this accepts exactly what they accept, returns the same value and refuses with the
 * same errors, in the same order, as validation.ts's fieldErrors makes of zod's issues.
 */
import { ValidationError } from '../errors.js';
import { summarise } from '../validation.js';
import type { BatchEvent, ClickEvent, ImpressionEvent } from './events.js';
import {
  checkBoolean,
  checkFeatures,
  checkId,
  checkLength,
  checkTimestamp,
  type Errors,
  expected,
  isRecord,
  join,
  rejectUnknown,
} from './field-checks.js';

const MAX_SHORT_TEXT = 128;

/** schemas/events.ts's ShortText: 1-128 characters. */
function checkShortText(v: unknown, parent: string, key: string, errors: Errors): void {
  if (typeof v === 'string' && v.length >= 1 && v.length <= MAX_SHORT_TEXT) return;
  const path = join(parent, key);
  if (typeof v !== 'string') errors.push({ path, message: expected('string', v) });
  checkLength(v, path, 1, MAX_SHORT_TEXT, errors);
}

// z.ipv4()'s pattern (zod/v4/core/regexes.js): four decimal octets, no leading zero.
const IPV4 =
  /^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])$/;
// z.ipv6() does not use its pattern: it takes hex digits, colons and dots that the URL parser reads
// as an IPv6 host (zod/v4/core/schemas.js isValidIPv6), so `::ffff:1.2.3.4` passes and a zone id does not.
const IPV6_ALPHABET = /^[0-9a-fA-F:.]+$/;

/** schemas/events.ts's Ip: z.union([z.ipv4(), z.ipv6()]); zod names neither member when both refuse. */
function checkIp(v: unknown, parent: string, key: string, errors: Errors): void {
  if (typeof v === 'string' && (IPV4.test(v) || (IPV6_ALPHABET.test(v) && URL.canParse(`http://[${v}]`)))) return;
  errors.push({ path: join(parent, key), message: 'Invalid input' });
}

const TYPE_MESSAGE = "Invalid discriminator value. Expected 'impression' | 'click'";

const IMPRESSION_FIELDS = [
  'impression_id',
  'prediction_id',
  'user_id',
  'ad_id',
  'timestamp',
  'device_type',
  'location',
  'ip',
  'features',
];
const CLICK_FIELDS = ['click_id', 'impression_id', 'user_id', 'ip', 'clicked', 'timestamp'];
const KNOWN_IMPRESSION = new Set(IMPRESSION_FIELDS);
const KNOWN_CLICK = new Set(CLICK_FIELDS);
const KNOWN_BATCH_IMPRESSION = new Set([...IMPRESSION_FIELDS, 'type']);
const KNOWN_BATCH_CLICK = new Set([...CLICK_FIELDS, 'type']);

/** The impression's fields in the schema's order (zod reports them so), then its unknown keys. */
function checkImpression(v: Record<string, unknown>, at: string, known: ReadonlySet<string>, errors: Errors) {
  checkId(v.impression_id, at, 'impression_id', errors);
  if (v.prediction_id !== undefined) checkId(v.prediction_id, at, 'prediction_id', errors);
  checkId(v.user_id, at, 'user_id', errors);
  checkId(v.ad_id, at, 'ad_id', errors);
  checkTimestamp(v.timestamp, at, 'timestamp', errors);
  if (v.device_type !== undefined) checkShortText(v.device_type, at, 'device_type', errors);
  if (v.location !== undefined) checkShortText(v.location, at, 'location', errors);
  if (v.ip !== undefined) checkIp(v.ip, at, 'ip', errors);
  const features = v.features === undefined ? undefined : checkFeatures(v.features, at, 'features', errors);
  rejectUnknown(v, known, at, errors);
  if (errors.length > 0) return undefined;
  const out = {
    impression_id: v.impression_id,
    user_id: v.user_id,
    ad_id: v.ad_id,
    timestamp: v.timestamp,
  } as ImpressionEvent;
  if (v.prediction_id !== undefined) out.prediction_id = v.prediction_id as string;
  if (v.device_type !== undefined) out.device_type = v.device_type as string;
  if (v.location !== undefined) out.location = v.location as string;
  if (v.ip !== undefined) out.ip = v.ip as string;
  if (features !== undefined) out.features = features;
  return out;
}

function checkClick(v: Record<string, unknown>, at: string, known: ReadonlySet<string>, errors: Errors) {
  checkId(v.click_id, at, 'click_id', errors);
  checkId(v.impression_id, at, 'impression_id', errors);
  if (v.user_id !== undefined) checkId(v.user_id, at, 'user_id', errors);
  if (v.ip !== undefined) checkIp(v.ip, at, 'ip', errors);
  checkBoolean(v.clicked, at, 'clicked', errors);
  checkTimestamp(v.timestamp, at, 'timestamp', errors);
  rejectUnknown(v, known, at, errors);
  if (errors.length > 0) return undefined;
  const out = {
    click_id: v.click_id,
    impression_id: v.impression_id,
    clicked: v.clicked,
    timestamp: v.timestamp,
  } as ClickEvent;
  if (v.user_id !== undefined) out.user_id = v.user_id as string;
  if (v.ip !== undefined) out.ip = v.ip as string;
  return out;
}

/** The error for a body or event that is not an object, as fieldErrors words it at `path`. */
function notAnObject(input: unknown, path: string): Errors {
  return [{ path: path === '' ? '(body)' : path, message: expected('object', input) }];
}

/**
 * One event of `POST /event/batch`, as schemas/events.ts's BatchEvent parses it, or a
 * ValidationError whose paths start with `prefix` (`events.3`) and whose message is their summary.
 */
export function parseBatchEvent(input: unknown, prefix: string): BatchEvent {
  if (!isRecord(input)) {
    const errors = notAnObject(input, prefix);
    throw new ValidationError(summarise(errors), errors);
  }
  const errors: Errors = [];
  const type = input.type;
  let out: Partial<BatchEvent> | undefined;
  if (type === 'impression') out = checkImpression(input, prefix, KNOWN_BATCH_IMPRESSION, errors);
  else if (type === 'click') out = checkClick(input, prefix, KNOWN_BATCH_CLICK, errors);
  else {
    errors.push({ path: join(prefix, 'type'), message: TYPE_MESSAGE });
  }
  if (out === undefined) throw new ValidationError(summarise(errors), errors);
  out.type = type as BatchEvent['type'];
  return out as BatchEvent;
}

function fail(errors: Errors): never {
  throw new ValidationError(`Invalid body: ${summarise(errors)}`, errors);
}

/** `POST /event/impression`'s body, as ImpressionEvent parses it, or a ValidationError like parseOrThrow's. */
export function parseImpressionEvent(input: unknown): ImpressionEvent {
  if (!isRecord(input)) fail(notAnObject(input, ''));
  const errors: Errors = [];
  const out = checkImpression(input, '', KNOWN_IMPRESSION, errors);
  if (out === undefined) fail(errors);
  return out;
}

/** `POST /event/click`'s body, as ClickEvent parses it, or a ValidationError like parseOrThrow's. */
export function parseClickEvent(input: unknown): ClickEvent {
  if (!isRecord(input)) fail(notAnObject(input, ''));
  const errors: Errors = [];
  const out = checkClick(input, '', KNOWN_CLICK, errors);
  if (out === undefined) fail(errors);
  return out;
}
