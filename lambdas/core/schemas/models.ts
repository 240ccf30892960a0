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

/** At most this many drift events are kept per model (the newest). */
export const MAX_DRIFT_EVENTS = 20;

export const DRIFT_EVENT_KINDS = ['rolled_back', 'experiment_stopped', 'flagged'] as const;

/**
 * What the drift monitor saw and did (docs/drift.md). The same event is kept on the drifting
 * model and, after a rollback, on the model that took over.
 */
export const DriftEvent = z
  .object({
    at: z.string(),
    kind: z.enum(DRIFT_EVENT_KINDS).openapi({
      description:
        'rolled_back: the drifting champion was replaced by its previous champion; experiment_stopped: the experiments it served in were stopped; flagged: nothing could be done automatically.',
    }),
    model_id: z.string().openapi({ description: 'The model whose online metrics drifted.' }),
    rolled_back_to: z.string().nullable(),
    experiment_ids: z.array(z.string()).openapi({ description: 'Experiments stopped because of it.' }),
    reasons: z.array(z.string()),
    impressions: z.number().int(),
    clicks: z.number().int(),
    calibration: z.number().nullable().openapi({ description: 'Online mean predicted / observed over the window.' }),
    logloss: z.number().nullable(),
    baseline_logloss: z.number().nullable().openapi({ description: "The model's own holdout log loss." }),
    window: z.object({ from: z.string(), to: z.string() }),
    detail: z.string(),
  })
  .openapi('DriftEvent');
export type DriftEvent = z.infer<typeof DriftEvent>;

/** At most this many erasure ids are kept on a model (the newest); `erasures` counts them all. */
export const MAX_ERASURE_IDS = 20;

export const RetrainRequiredByErasure = z
  .object({
    since: z.string().openapi({ description: 'When the first such erasure completed.' }),
    erasures: z.number().int().openapi({ description: 'How many erasures flagged the model.' }),
    erasure_ids: z
      .array(z.string())
      .max(MAX_ERASURE_IDS)
      .openapi({ description: 'The newest erasures, oldest first.' }),
  })
  .openapi('RetrainRequiredByErasure');
export type RetrainRequiredByErasure = z.infer<typeof RetrainRequiredByErasure>;

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
    drift_events: z
      .array(DriftEvent)
      .max(MAX_DRIFT_EVENTS)
      .optional()
      .openapi({ description: 'What the drift monitor did about this model, oldest first (docs/drift.md).' }),
    retrain_required_by_erasure: RetrainRequiredByErasure.optional().openapi({
      description:
        'Set when a user whose data this model may have been trained on was erased (DELETE /users/{user_id}): retrain it.',
    }),
  })
  .openapi('Model');
export type ModelRecord = z.infer<typeof ModelRecord>;

export const ModelIdParams = z.object({ id: Id }).strict();
