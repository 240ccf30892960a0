import * as z from 'zod';
import { Id } from './common.js';

export const ERASURE_STATUSES = ['pending', 'running', 'completed', 'failed'] as const;
export type ErasureStatus = (typeof ERASURE_STATUSES)[number];

/** `DELETE /users/{user_id}`: the raw user id, pseudonymised before anything stores it. */
export const UserIdParams = z.object({ user_id: Id }).strict();

export const ErasureIdParams = z.object({ id: Id }).strict();

export const ErasureAccepted = z
  .object({
    erasure_id: z.string(),
    status: z.enum(ERASURE_STATUSES),
    receipt: z.string().openapi({ description: 'Where the receipt is: `GET /erasures/{erasure_id}`.' }),
  })
  .openapi('ErasureAccepted');
export type ErasureAccepted = z.infer<typeof ErasureAccepted>;

export const StoreErasureReceipt = z
  .object({
    store: z.string().openapi({
      description:
        'feature_store, prediction_log, experiment_assignments, event_log, lake, holdout, prediction_cache (AWS), ...',
    }),
    status: z.enum(['completed', 'submitted']).openapi({
      description:
        'completed: removed when the receipt says so; submitted: an asynchronous job (the Glue rewrite) runs it, and the erasure stays running until every job succeeded.',
    }),
    jobs: z
      .array(z.string())
      .optional()
      .openapi({ description: 'The asynchronous jobs of a submitted removal (Glue job runs, as table:run id).' }),
    removed: z
      .record(z.string(), z.number().int())
      .openapi({ description: 'What was removed, counted by kind (rows per lake table, items, keys, ...).' }),
    detail: z.string().nullable(),
    completed_at: z.string(),
  })
  .openapi('StoreErasureReceipt');
export type StoreErasureReceipt = z.infer<typeof StoreErasureReceipt>;

export const ErasureReceipt = z
  .object({
    erasure_id: z.string(),
    status: z.enum(ERASURE_STATUSES),
    requested_at: z.string(),
    started_at: z.string().nullable(),
    completed_at: z.string().nullable(),
    stores: z
      .array(StoreErasureReceipt)
      .openapi({ description: 'One entry per store, in the order they were erased.' }),
    data_span: z.object({ from: z.string(), to: z.string() }).nullable().openapi({
      description:
        'Event-time range of the removed data (null: nothing was found); it decides which models are flagged.',
    }),
    models_flagged: z
      .array(z.string())
      .openapi({ description: 'Models registered before the erasure whose training data may have held the user.' }),
    error: z
      .string()
      .nullable()
      .openapi({ description: 'Why a failed erasure failed (it is retried by DELETE again).' }),
  })
  .openapi('ErasureReceipt');
export type ErasureReceipt = z.infer<typeof ErasureReceipt>;
