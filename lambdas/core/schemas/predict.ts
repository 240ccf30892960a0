import * as z from 'zod';
import { Features, Id, MAX_BATCH, Timestamp } from './common.js';

export const PredictRequest = z
  .object({
    user_id: Id,
    ad_id: Id,
    features: Features.optional(),
    request_id: Id.optional().openapi({
      description: 'Idempotency key: the same request_id returns the same prediction.',
    }),
    consent: z
      .boolean()
      .optional()
      .openapi({ description: 'false: score without personal features, store no user id.' }),
    explain: z.boolean().optional().openapi({ description: 'true: add per-feature SHAP contributions (logit space).' }),
    timestamp: Timestamp.optional().openapi({
      description:
        "When the ad server made the request (RFC 3339); default: when this server received it. For replays and simulations; bounded like event times (at most 5 minutes ahead, within the lake's retention).",
    }),
  })
  .strict()
  .openapi('PredictRequest');
export type PredictRequest = z.infer<typeof PredictRequest>;

export const Explanation = z
  .object({
    base_value: z.number().openapi({ description: 'Logit of the model before any feature.' }),
    contributions: z.record(z.string(), z.number()),
  })
  .openapi('Explanation');
export type Explanation = z.infer<typeof Explanation>;

export const Exploration = z
  .object({
    bonus: z
      .number()
      .min(0)
      .openapi({ description: 'Optimism added to the logit: κ × its posterior standard deviation.' }),
    ranking_score: z.number().min(0).max(1).openapi({
      description:
        'σ(logit + bonus): an optimistic score to rank by, so new ads get impressions to learn from. Bill and bid on probability, never on this.',
    }),
  })
  .openapi('Exploration');
export type Exploration = z.infer<typeof Exploration>;

export const Prediction = z
  .object({
    prediction_id: z.string(),
    ad_id: z.string(),
    probability: z.number().min(0).max(1),
    model_version: z.string(),
    variant: z.string(),
    fallback: z.boolean().optional(),
    explanation: Explanation.optional(),
    exploration: Exploration.optional().openapi({
      description:
        'Present only when exploration is on and this prediction, within the budget, is of an ad the model has little evidence on.',
    }),
  })
  .openapi('Prediction');
export type Prediction = z.infer<typeof Prediction>;

export const PredictBatchRequest = z
  .object({
    user_id: Id,
    features: Features.optional(),
    request_id: Id.optional(),
    consent: z.boolean().optional(),
    explain: z.boolean().optional(),
    timestamp: Timestamp.optional().openapi({
      description:
        "When the ad server made the request (RFC 3339); default: when this server received it. For replays and simulations; bounded like event times (at most 5 minutes ahead, within the lake's retention).",
    }),
    ads: z
      .array(z.object({ ad_id: Id, features: Features.optional() }).strict())
      .min(1, 'must hold at least one ad')
      .max(MAX_BATCH, `must hold at most ${MAX_BATCH} ads`),
  })
  .strict()
  .openapi('PredictBatchRequest');
export type PredictBatchRequest = z.infer<typeof PredictBatchRequest>;

export const PredictBatchResponse = z.object({ predictions: z.array(Prediction) }).openapi('PredictBatchResponse');
export type PredictBatchResponse = z.infer<typeof PredictBatchResponse>;
