/**
 * The experiment routes (`/experiments*`): what a client sends and what it gets back. The result
 * shapes mirror lambdas/core/experiments/statistics.ts (ExperimentEvaluation), so that the
 * OpenAPI document describes what GET /experiments/{id} answers.
 */
import * as z from 'zod';
import { Id } from './common.js';

export const MIN_VARIANTS = 2;
export const MAX_VARIANTS = 10;
export const MAX_EXPERIMENT_CAMPAIGNS = 100;
/** Weights are relative; a bound keeps their sum far from floating-point trouble. */
export const MAX_VARIANT_WEIGHT = 1_000_000;
export const MAX_EXPERIMENT_NAME_LENGTH = 128;

export const EXPERIMENT_STATUSES = ['running', 'stopped'] as const;

const Name = z
  .string()
  .min(1, 'must not be empty')
  .max(MAX_EXPERIMENT_NAME_LENGTH, `must be at most ${MAX_EXPERIMENT_NAME_LENGTH} characters`)
  .regex(/^[^\p{Cc}]+$/u, 'must not contain control characters');

const distinctCampaigns = (values: readonly string[], ctx: z.RefinementCtx) => {
  const seen = new Set<string>();
  values.forEach((v, i) => {
    if (seen.has(v)) ctx.addIssue({ code: 'custom', path: [i], message: `campaign ${v} appears twice` });
    seen.add(v);
  });
};

export const ExperimentVariantInput = z
  .object({
    model_id: Id.openapi({ description: 'A registered model that has completed its upload.' }),
    weight: z
      .number()
      .gt(0, 'must be greater than 0')
      .max(MAX_VARIANT_WEIGHT, `must be at most ${MAX_VARIANT_WEIGHT}`)
      .openapi({ description: "Relative share of the experiment's users (weights need not sum to 1)." }),
  })
  .strict()
  .openapi('ExperimentVariantInput');

export const CreateExperimentRequest = z
  .object({
    name: Name.openapi({ description: 'What the experiment compares, for people.', example: 'ftrl-fm retrained' }),
    variants: z
      .array(ExperimentVariantInput)
      .min(MIN_VARIANTS, `at least ${MIN_VARIANTS} variants`)
      .max(MAX_VARIANTS, `at most ${MAX_VARIANTS} variants`)
      .superRefine((vs, ctx) => {
        const seen = new Set<string>();
        vs.forEach((v, i) => {
          if (seen.has(v.model_id)) {
            ctx.addIssue({ code: 'custom', path: [i, 'model_id'], message: `model ${v.model_id} appears twice` });
          }
          seen.add(v.model_id);
        });
      })
      .openapi({
        description:
          'Distinct models, 2-10. The first is the control every other variant is compared with: put the champion first.',
      }),
    campaign_ids: z
      .array(Id)
      .min(1, 'at least 1 campaign (leave the field out for all traffic)')
      .max(MAX_EXPERIMENT_CAMPAIGNS, `at most ${MAX_EXPERIMENT_CAMPAIGNS} campaigns`)
      .superRefine(distinctCampaigns)
      .optional()
      .openapi({
        description:
          "Only requests for ads of these campaigns (the ad catalogue's campaign_id) take part; all traffic when absent.",
      }),
  })
  .strict()
  .openapi('CreateExperimentRequest');
export type CreateExperimentRequest = z.infer<typeof CreateExperimentRequest>;

export const ExperimentIdParams = z.object({ id: Id }).strict();

export const ListExperimentsParams = z
  .object({
    status: z
      .enum(EXPERIMENT_STATUSES, { message: `must be one of ${EXPERIMENT_STATUSES.join(', ')}` })
      .optional()
      .openapi({ description: 'Only experiments in this state; all when absent.' }),
  })
  .strict();
export type ListExperimentsParams = z.infer<typeof ListExperimentsParams>;

// ---------------------------------------------------------------- responses

export const Experiment = z
  .object({
    experiment_id: z.string().openapi({ description: "Variant labels are '<experiment_id>:<index>'." }),
    name: z.string(),
    status: z.enum(EXPERIMENT_STATUSES),
    variants: z.array(z.object({ model_id: z.string(), weight: z.number() })),
    campaign_ids: z.array(z.string()).nullable().openapi({ description: 'null: all traffic.' }),
    created_at: z.string().openapi({ format: 'date-time' }),
    stopped_at: z.string().nullable().openapi({ format: 'date-time' }),
  })
  .openapi('Experiment');

export const ExperimentList = z.object({ experiments: z.array(Experiment) }).openapi('ExperimentList');

const nullableNumber = z.number().nullable();

export const VariantResult = z
  .object({
    variant: z.string().openapi({ description: "'<experiment_id>:<index>'; index 0 is the control." }),
    model_id: z.string(),
    control: z.boolean(),
    impressions: z.number().int().nonnegative().openapi({
      description: 'Counted impressions (each once, fraud-flagged ones left out) that followed a prediction.',
    }),
    clicks: z.number().int().nonnegative(),
    ctr: nullableNumber,
    logloss: nullableNumber.openapi({ description: 'Online log loss of the served probabilities.' }),
    calibration: nullableNumber.openapi({ description: 'Mean predicted / observed CTR.' }),
    predictions: z.number().int().nonnegative().openapi({
      description: 'Predictions the variant made in the window, shown or not (the fallback and latency guardrails).',
    }),
    fallback_rate: nullableNumber.openapi({ description: 'Share of those predictions a fallback model served.' }),
    latency_p99_ms: nullableNumber.openapi({
      description: "99th percentile of the model call's latency in milliseconds (null: none timed).",
    }),
    lift: z
      .object({ estimate: z.number(), lower: z.number(), upper: z.number() })
      .nullable()
      .openapi({ description: 'Relative CTR lift vs the control with its 95 % interval; null for the control.' }),
    p_value: nullableNumber.openapi({
      description: 'Always-valid (sequential) p-value vs the control: it may be read at any time.',
    }),
    guardrails: z.array(z.object({ name: z.string(), passed: z.boolean(), detail: z.string() })),
  })
  .openapi('ExperimentVariantResult');

export const ExperimentResults = z
  .object({
    from: z.string().openapi({ description: 'Start of the counted window (the creation, or 92 days back).' }),
    to: z.string().openapi({ description: 'End of the counted window (exclusive): the stop, or now.' }),
    clamped: z.boolean().openapi({
      description: 'True when the experiment is older than 92 days, the analytics limit: only the last 92 count.',
    }),
    truncated: z.boolean().openapi({ description: 'True when the analytics query hit its row limit.' }),
    control: z.string().nullable(),
    variants: z.array(VariantResult).openapi({ description: 'Every variant, in order, zeros before any traffic.' }),
    decision: z.enum(['keep_running', 'promote', 'stop']),
    winner: z.string().nullable().openapi({ description: 'The variant to promote when decision is promote.' }),
    reasons: z.array(z.string()),
  })
  .openapi('ExperimentResults');
export type ExperimentResults = z.infer<typeof ExperimentResults>;

export const ExperimentWithResults = Experiment.extend({ results: ExperimentResults }).openapi('ExperimentWithResults');
export type ExperimentWithResults = z.infer<typeof ExperimentWithResults>;
