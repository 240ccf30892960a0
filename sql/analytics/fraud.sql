-- Fraud summary (GET /analytics/fraud): events flagged by the click-fraud rules, per period (hour
-- or day, UTC, of the flagged event's time), rule and site. A flag's replays collapse into one
-- (per event, within its hour partition; the highest score wins). The site is the one the flag
-- names, else the impression's `site_id` feature (a click's: its impression's). These events are
-- the ones the other analytics queries leave out. Definitions: docs/analytics.md.
--
-- Parameters (positional, in this order; hours YYYY-MM-DDTHH, dates YYYY-MM-DD, times timestamp
-- text in UTC):
--   1, 2    suspicious_events dt bounds: date(range_from) .. date(range_to - 1 ms)
--   3, 4    suspicious_events hour bounds: the same instants
--   5, 6    range_from (inclusive), range_to (exclusive): when the flagged events happened
--   7, 8    clicks dt bounds: as suspicious_events (a flagged click's own partition)
--   9, 10   clicks hour bounds: the same
--   11, 12  ad_impressions dt bounds: date(range_from - window) .. date(range_to - 1 ms + window)
--   13, 14  ad_impressions hour bounds: the same instants
--   15      granularity  'hour' or 'day'
--   16      row_limit    integer, rows returned at most
WITH
flags AS (
  SELECT event_type, event_id, rule, score, site_id, flagged_at
  FROM (
    SELECT
      event_type,
      event_id,
      rule,
      score,
      site_id,
      timestamp AS flagged_at,
      row_number() OVER (PARTITION BY event_type, event_id, dt, hour ORDER BY score DESC, rule) AS copy
    FROM suspicious_events
    WHERE dt BETWEEN ? AND ?
      AND concat(dt, 'T', hour) BETWEEN ? AND ?
  ) AS copies
  WHERE copy = 1
    AND flagged_at >= CAST(? AS TIMESTAMP)
    AND flagged_at < CAST(? AS TIMESTAMP)
),
-- The impression each flag without a site came from: itself, or a click's impression.
unsited AS (
  SELECT f.event_type, f.event_id, f.event_id AS impression_id
  FROM flags f
  WHERE f.event_type = 'impression' AND f.site_id IS NULL
  UNION ALL
  SELECT f.event_type, f.event_id, c.impression_id
  FROM flags f
  JOIN clicks c ON c.click_id = f.event_id
  WHERE f.event_type = 'click'
    AND f.site_id IS NULL
    AND c.dt BETWEEN ? AND ?
    AND concat(c.dt, 'T', c.hour) BETWEEN ? AND ?
),
sites AS (
  SELECT u.event_type, u.event_id, min(json_extract_scalar(i.features, '$.site_id')) AS site_id
  FROM unsited u
  JOIN ad_impressions i ON i.impression_id = u.impression_id
  WHERE i.dt BETWEEN ? AND ?
    AND concat(i.dt, 'T', i.hour) BETWEEN ? AND ?
  GROUP BY 1, 2
)
SELECT
  CASE WHEN ? = 'hour' THEN date_trunc('hour', f.flagged_at) ELSE date_trunc('day', f.flagged_at) END AS period_start,
  f.rule,
  coalesce(f.site_id, s.site_id) AS site_id,
  count(*) AS flagged_events,
  CAST(sum(CASE WHEN f.event_type = 'impression' THEN 1 ELSE 0 END) AS BIGINT) AS flagged_impressions,
  CAST(sum(CASE WHEN f.event_type = 'click' THEN 1 ELSE 0 END) AS BIGINT) AS flagged_clicks,
  avg(f.score) AS mean_score,
  max(f.score) AS max_score
FROM flags f
LEFT JOIN sites s ON s.event_type = f.event_type AND s.event_id = f.event_id
GROUP BY 1, 2, 3
ORDER BY period_start, rule, site_id
LIMIT ?
