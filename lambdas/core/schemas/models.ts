import * as z from 'zod';
import { Id } from './common.js';

export const MODEL_STATUSES = ['uploading', 'candidate', 'champion', 'challenger', 'retired', 'rejected'] as const;
export type ModelStatus = (typeof MODEL_STATUSES)[number];

export const ModelUploadRequest = z
  .object({
    version: Id.openapi({ description: 'Human version label, unique in the registry.', example: '2026-12-04.1' }),
    metadata: z
      .record(z.string().max(64), z.union([z.string().max(1024), z.number(), z.boolean(), z.null()]))
      .refine((m) => Object.keys(m).length <= 64, 'at most 64 metadata keys')
      .openapi({ description: 'Free-form labels (owner, notes, training job, ...).' }),
  })
  .strict()
  .openapi('ModelUploadRequest');
export type ModelUploadRequest = z.infer<typeof ModelUploadRequest>;

export const ModelUploadResponse = z
  .object({ model_id: z.string(), upload_url: z.string(), max_bytes: z.number().int() })
  .openapi('ModelUploadResponse');

export const ActivateRequest = z
  .object({ force: z.boolean().optional().openapi({ description: 'Activate even when the gate refuses.' }) })
  .strict()
  .openapi('ActivateRequest');

export const HoldoutMetrics = z
  .object({
    rows: z.number().int(),
    positives: z.number().int(),
    logloss: z.number(),
    calibration: z.number().nullable(),
    auc: z.number().nullable(),
  })
  .openapi('HoldoutMetrics');
export type HoldoutMetrics = z.infer<typeof HoldoutMetrics>;

export const SegmentMetrics = HoldoutMetrics.extend({ segment: z.string() });
export type SegmentMetrics = z.infer<typeof SegmentMetrics>;

export const GateReport = z
  .object({
    passed: z.boolean(),
    reasons: z.array(z.string()),
    holdout: z.string().openapi({ description: 'What the two models were scored on.' }),
    candidate: HoldoutMetrics.extend({ segments: z.array(SegmentMetrics) }),
    champion: HoldoutMetrics.extend({ segments: z.array(SegmentMetrics) }).nullable(),
  })
  .openapi('GateReport');
export type GateReport = z.infer<typeof GateReport>;

export const ModelRecord = z
  .object({
    model_id: z.string(),
    version: z.string(),
    status: z.enum(MODEL_STATUSES),
    alias: z.enum(['champion', 'challenger']).nullable(),
    algorithm: z.string().nullable(),
    artifact_uri: z.string(),
    artifact_bytes: z.number().int().nullable(),
    metadata: z.record(z.string(), z.unknown()),
    training_window: z.object({ from: z.string().nullable(), to: z.string().nullable() }).nullable(),
    holdout_metrics: z.record(z.string(), z.unknown()).nullable(),
    negative_sampling_rate: z.number().nullable(),
    gate: GateReport.nullable(),
    previous_champion_id: z.string().nullable(),
    created_at: z.string(),
    activated_at: z.string().nullable(),
  })
  .openapi('Model');
export type ModelRecord = z.infer<typeof ModelRecord>;

export const ModelIdParams = z.object({ id: Id }).strict();
