/** Rows of the event tables for the event-log tests (no heavy imports: the crash child uses it too). */
import type { LakeRow } from '../../../lambdas/core/ports.js';

export function impression(id: string, at: string, extra: Partial<Record<string, string | null>> = {}): LakeRow {
  return {
    table: 'ad_impressions',
    row: {
      impression_id: id,
      prediction_id: null,
      user_id: 'u_pseudo_1',
      ad_id: 'ad-7',
      timestamp: new Date(at),
      device_type: 'mobile',
      location: 'US-CA',
      ip: null,
      features: '{"site_id":"s-1"}',
      received_at: new Date(new Date(at).getTime() + 250),
      ...extra,
    },
  };
}

export function click(id: string, at: string, clicked = true): LakeRow {
  return {
    table: 'clicks',
    row: {
      click_id: id,
      impression_id: `imp-of-${id}`,
      user_id: null,
      ip: null,
      clicked,
      timestamp: new Date(at),
      received_at: new Date(at),
    },
  };
}
