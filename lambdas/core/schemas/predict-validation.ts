/**
 * The predict routes' request validation without zod: the predict function's cold start is the one
 * an ad request waits for, and zod (with the schemas and their OpenAPI metadata) is a fifth of its
 * module init. The zod schemas in schemas/predict.ts stay the contract (the OpenAPI document and the
 * types); test/unit/core/predict-validation.test.ts checks with generated inputs that this accepts
 * exactly what they accept, returns the same value and refuses with the same errors (paths and
 * messages).
 */
import { ValidationError } from '../errors.js';
import { summarise } from '../validation.js';
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
import { MAX_BATCH } from './limits.js';
import type { PredictBatchRequest, PredictRequest } from './predict.js';

const COMMON_FIELDS = ['user_id', 'features', 'request_id', 'consent', 'explain', 'timestamp'] as const;
const PREDICT_FIELDS = new Set<string>([...COMMON_FIELDS, 'ad_id']);
const BATCH_FIELDS = new Set<string>([...COMMON_FIELDS, 'ads']);
const AD_FIELDS = new Set(['ad_id', 'features']);

type Common = Omit<PredictRequest, 'ad_id'>;

/** The fields both requests share, copied into `out` when valid. */
function checkCommon(v: Record<string, unknown>, errors: Errors): Partial<Common> & { ad_id?: string } {
  const out: Partial<Common> & { ad_id?: string } = {};
  checkId(v.user_id, '', 'user_id', errors);
  out.user_id = v.user_id as string;
  if (v.features !== undefined) {
    const features = checkFeatures(v.features, '', 'features', errors);
    if (features) out.features = features;
  }
  if (v.request_id !== undefined) {
    checkId(v.request_id, '', 'request_id', errors);
    out.request_id = v.request_id as string;
  }
  for (const key of ['consent', 'explain'] as const) {
    if (v[key] !== undefined) {
      checkBoolean(v[key], '', key, errors);
      out[key] = v[key] as boolean;
    }
  }
  if (v.timestamp !== undefined) {
    checkTimestamp(v.timestamp, '', 'timestamp', errors);
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
  checkId(input.ad_id, '', 'ad_id', errors);
  rejectUnknown(input, PREDICT_FIELDS, '', errors);
  if (errors.length > 0) fail(errors);
  // Completed in place rather than spread into a new object (see jsonAnswer in api/http-adapter.ts).
  out.ad_id = input.ad_id as string;
  return out as PredictRequest;
}

/** `POST /predict/batch`'s body, as PredictBatchRequest parses it, or a ValidationError. */
export function parsePredictBatchRequest(input: unknown): PredictBatchRequest {
  if (!isRecord(input)) fail([{ path: '(body)', message: expected('object', input) }]);
  const errors: Errors = [];
  const out = checkCommon(input, errors);
  const ads: PredictBatchRequest['ads'] = [];
  const list = input.ads;
  if (!Array.isArray(list)) {
    errors.push({ path: 'ads', message: expected('array', list) });
  } else {
    list.forEach((ad, i) => {
      const at = join('ads', String(i));
      if (!isRecord(ad)) {
        errors.push({ path: at, message: expected('object', ad) });
        return;
      }
      checkId(ad.ad_id, at, 'ad_id', errors);
      const entry: PredictBatchRequest['ads'][number] = { ad_id: ad.ad_id as string };
      if (ad.features !== undefined) {
        const features = checkFeatures(ad.features, at, 'features', errors);
        if (features) entry.features = features;
      }
      rejectUnknown(ad, AD_FIELDS, at, errors);
      ads.push(entry);
    });
  }
  // As zod's, the bounds also measure a value of the wrong type that has a length (a string).
  checkLength(list, 'ads', 1, MAX_BATCH, errors, 'must hold at least one ad', `must hold at most ${MAX_BATCH} ads`);
  rejectUnknown(input, BATCH_FIELDS, '', errors);
  if (errors.length > 0) fail(errors);
  (out as Partial<PredictBatchRequest>).ads = ads;
  return out as PredictBatchRequest;
}
