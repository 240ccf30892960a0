import * as z from 'zod';
import { Features, Id } from './common.js';

export const AdUpsert = z
  .object({
    campaign_id: Id,
    advertiser_id: Id,
    category: z.string().min(1).max(128).optional(),
    attributes: Features.optional(),
  })
  .strict()
  .openapi('AdUpsert');
export type AdUpsert = z.infer<typeof AdUpsert>;

export const Ad = AdUpsert.extend({
  ad_id: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
}).openapi('Ad');
export type Ad = z.infer<typeof Ad>;

export const AdIdParams = z.object({ ad_id: Id }).strict();
