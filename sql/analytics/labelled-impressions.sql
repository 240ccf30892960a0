-- Labelled impressions: the one definition of "an impression" and "a click" that the analytics
-- queries share. Not a query on its own: ad-performance.sql, user-segments.sql and models.sql
-- begin with `-- @include analytics/labelled-impressions` (expanded by loadSql) and continue its
-- WITH list. Definitions and their reasons: docs/analytics.md.
--
-- - Replays (at-least-once delivery) collapse by id within the event's hour partition, where a
--   replay lands since it carries the same event time; the first received copy wins. So an hour's
--   answer depends on that hour's partitions only, which is what keeps hourly rollups exact.
-- - An impression counts when shown in [range_from, range_to) and not flagged in
--   suspicious_events. It is clicked when a click on it with clicked = true, not flagged, came
--   at or after it and at most one attribution window later (explicit non-clicks never count).
-- - Its prediction is the one it names, made within one window of it (either side: clocks
--   differ); a prediction's replays are identical copies and collapse into one.
--
-- Output CTE `labelled`: one row per counted impression: impression_id, shown_at, ad_id, user_id,
-- device_type, location, prediction_id, probability, model_version, variant, exploration_bonus
-- (the prediction's columns are NULL without one), clicked (0 or 1). Also `predictions`: each
-- prediction of the partitions read once (prediction_id, probability, model_version, variant,
-- predicted_at, fallback, exploration_bonus, model_latency_ms), for figures over predictions.
--
-- Parameters (positional, in this order; "hours" are YYYY-MM-DDTHH, dates YYYY-MM-DD, times
-- timestamp text in UTC; the dt bounds prune partitions on every engine, the hour bounds narrow
-- them to hours):
--   1, 2    ad_impressions dt bounds: date(range_from) .. date(range_to - 1 ms)
--   3, 4    ad_impressions hour bounds: the same instants
--   5, 6    suspicious_events dt bounds: date(range_from) .. date(range_to - 1 ms + window)
--   7, 8    suspicious_events hour bounds: the same instants
--   9, 10   range_from (inclusive), range_to (exclusive): when the impressions were shown
--   11, 12  clicks dt bounds: as suspicious_events
--   13, 14  clicks hour bounds: as suspicious_events
--   15..18  ad_impressions dt and hour bounds again (1 to 4)
--   19      window_seconds, the attribution window (DEFAULT_ATTRIBUTION_WINDOW_SECONDS)
--   20, 21  model_predictions dt bounds: date(range_from - window) .. date(range_to - 1 ms + window)
--   22, 23  model_predictions hour bounds: the same instants
--   24, 25  window_seconds, twice more
WITH
impression_copies AS (
  SELECT
    impression_id,
    prediction_id,
    user_id,
    ad_id,
    timestamp AS shown_at,
    device_type,
    location,
    row_number() OVER (PARTITION BY impression_id, dt, hour ORDER BY received_at) AS copy
  FROM ad_impressions
  WHERE dt BETWEEN ? AND ?
    AND concat(dt, 'T', hour) BETWEEN ? AND ?
),
flagged AS (
  SELECT DISTINCT event_type, event_id
  FROM suspicious_events
  WHERE dt BETWEEN ? AND ?
    AND concat(dt, 'T', hour) BETWEEN ? AND ?
),
impressions AS (
  SELECT i.impression_id, i.prediction_id, i.user_id, i.ad_id, i.shown_at, i.device_type, i.location
  FROM impression_copies i
  LEFT JOIN flagged f ON f.event_type = 'impression' AND f.event_id = i.impression_id
  WHERE i.copy = 1
    AND i.shown_at >= CAST(? AS TIMESTAMP)
    AND i.shown_at < CAST(? AS TIMESTAMP)
    AND f.event_id IS NULL
),
click_copies AS (
  SELECT
    click_id,
    impression_id,
    clicked,
    timestamp AS clicked_at,
    row_number() OVER (PARTITION BY click_id, dt, hour ORDER BY received_at) AS copy
  FROM clicks
  WHERE dt BETWEEN ? AND ?
    AND concat(dt, 'T', hour) BETWEEN ? AND ?
),
attributed AS (
  -- Joins the clicks to the impressions as stored rather than to the CTE above, so that each
  -- table is read once per reference and nothing large is held in memory (clicks are few).
  SELECT DISTINCT c.impression_id, i.timestamp AS shown_at
  FROM click_copies c
  JOIN ad_impressions i ON i.impression_id = c.impression_id
  LEFT JOIN flagged f ON f.event_type = 'click' AND f.event_id = c.click_id
  WHERE i.dt BETWEEN ? AND ?
    AND concat(i.dt, 'T', i.hour) BETWEEN ? AND ?
    AND c.copy = 1
    AND c.clicked
    AND c.clicked_at >= i.timestamp
    AND c.clicked_at <= i.timestamp + CAST(? AS BIGINT) * INTERVAL '1' SECOND
    AND f.event_id IS NULL
),
predictions AS (
  SELECT
    prediction_id, probability, model_version, variant, predicted_at, fallback, exploration_bonus, model_latency_ms
  FROM (
    SELECT
      prediction_id,
      probability,
      model_version,
      variant,
      timestamp AS predicted_at,
      fallback,
      exploration_bonus,
      model_latency_ms,
      row_number() OVER (PARTITION BY prediction_id ORDER BY timestamp) AS copy
    FROM model_predictions
    WHERE dt BETWEEN ? AND ?
      AND concat(dt, 'T', hour) BETWEEN ? AND ?
  ) AS copies
  WHERE copy = 1
),
labelled AS (
  SELECT
    i.impression_id,
    i.shown_at,
    i.ad_id,
    i.user_id,
    i.device_type,
    i.location,
    m.prediction_id,
    m.probability,
    m.model_version,
    m.variant,
    m.exploration_bonus,
    CASE WHEN a.impression_id IS NULL THEN 0 ELSE 1 END AS clicked
  FROM impressions i
  LEFT JOIN attributed a ON a.impression_id = i.impression_id AND a.shown_at = i.shown_at
  LEFT JOIN predictions m
    ON m.prediction_id = i.prediction_id
    AND m.predicted_at >= i.shown_at - CAST(? AS BIGINT) * INTERVAL '1' SECOND
    AND m.predicted_at <= i.shown_at + CAST(? AS BIGINT) * INTERVAL '1' SECOND
)
