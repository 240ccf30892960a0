/** An `ad_impressions` lake row as the event path writes it: user `u-<id>`, a mobile device, the time twice. */
export function impressionRow(id: string, at: string | Date, overrides: Record<string, unknown> = {}) {
  const time = new Date(at);
  return {
    impression_id: id,
    prediction_id: null,
    user_id: `u-${id}`,
    ad_id: 'ad-1',
    timestamp: time,
    device_type: 'mobile',
    location: null,
    ip: null,
    features: null as string | null,
    received_at: time,
    ...overrides,
  };
}
