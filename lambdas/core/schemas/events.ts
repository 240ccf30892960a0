import * as z from 'zod';
import { Features, Id, MAX_BATCH, Timestamp } from './common.js';

const ShortText = z.string().min(1).max(128);
/** IPv4 or IPv6 text; it is pseudonymised before anything stores it. */
const Ip = z.union([z.ipv4(), z.ipv6()]).openapi({ description: 'IPv4 or IPv6 address; stored only as a keyed HMAC.' });

export const ImpressionEvent = z
  .object({
    impression_id: Id,
    prediction_id: Id.optional(),
    user_id: Id,
    ad_id: Id,
    timestamp: Timestamp,
    device_type: ShortText.optional(),
    location: ShortText.optional(),
    ip: Ip.optional(),
    features: Features.optional(),
  })
  .strict()
  .openapi('ImpressionEvent');
export type ImpressionEvent = z.infer<typeof ImpressionEvent>;

export const ClickEvent = z
  .object({
    click_id: Id,
    impression_id: Id,
    user_id: Id.optional(),
    ip: Ip.optional(),
    clicked: z.boolean(),
    timestamp: Timestamp,
  })
  .strict()
  .openapi('ClickEvent');
export type ClickEvent = z.infer<typeof ClickEvent>;

export const BatchEvent = z.discriminatedUnion('type', [
  ImpressionEvent.extend({ type: z.literal('impression') }).strict(),
  ClickEvent.extend({ type: z.literal('click') }).strict(),
]);
export type BatchEvent = z.infer<typeof BatchEvent>;

/**
 * The batch envelope is validated on its own so that one bad event does not reject the others:
 * each event is validated by the use case and reported in its own result.
 */
export const EventBatchRequest = z
  .object({
    events: z
      .array(z.unknown().openapi({ type: 'object', description: 'An impression or click with a `type` field.' }))
      .min(1, 'must hold at least one event')
      .max(MAX_BATCH, `must hold at most ${MAX_BATCH} events`),
  })
  .strict()
  .openapi('EventBatchRequest');
export type EventBatchRequest = z.infer<typeof EventBatchRequest>;

export const EventAccepted = z
  .object({ status: z.enum(['accepted', 'duplicate']), id: z.string() })
  .openapi('EventAccepted');

export const EventBatchResult = z
  .object({
    index: z.number().int(),
    status: z.enum(['accepted', 'duplicate', 'rejected']),
    error: z
      .object({ detail: z.string(), errors: z.array(z.object({ path: z.string(), message: z.string() })) })
      .optional(),
  })
  .openapi('EventBatchResult');
export type EventBatchResult = z.infer<typeof EventBatchResult>;

export const EventBatchResponse = z.object({ results: z.array(EventBatchResult) }).openapi('EventBatchResponse');
