-- The training set (DESIGN.md, "The training set and the gate"; docs/training-set.md): every
-- prediction shown in [range_from, range_to), with the feature snapshot the model scored, labelled
-- 1 when a genuine click on its impression came within the attribution window, else 0.
--
-- - The example's impression is the prediction's first one in the range (ties: the smallest id);
--   replays of an impression share its id and collapse into it.
-- - Maturity: an impression is labelled only once its whole window has passed at the cut-off
--   (shown_at + window <= cutoff); younger ones are left out, not counted as negatives.
-- - A click counts when clicked = true and shown_at <= click time <= shown_at + window. An
--   explicit non-click (clicked = false) never makes a positive.
-- - Fraud: a flagged impression yields no example; a flagged click does not count.
-- - The prediction is the one the impression names, made within one window of it (either side:
--   the ad server's clock is not ours); its replays are identical copies and collapse into one.
--   (Copies are counted by id, and only the replayed predictions grouped: grouping every
--   snapshot costs several times the rest of the query.)
-- - Negatives are kept when a hash of the prediction id falls below negative_rate (the same rows
--   on both engines and on every run); kept negatives weigh 1 / negative_rate, positives 1.
--
-- Output: the training_examples columns, then impression_timestamp (the impression's time, which
-- decides the build that owns the row; not stored). No ORDER BY: the caller orders what it writes.
--
-- Parameters (positional, in this order; times are timestamp text, dt bounds 'YYYY-MM-DD' and
-- inclusive, there only so that both engines prune partitions):
--   1, 2    suspicious_events dt: date(range_from) .. date(range_to + window)
--   3, 4    model_predictions dt: date(range_from - window) .. date(range_to + window)
--   5, 6    ad_impressions dt: date(range_from) .. date(range_to - 1 ms)
--   7       range_from: impressions shown at or after this
--   8       range_to: ... and before this
--   9       cutoff: the build's cut-off time
--   10      window_seconds (integer): the attribution window
--   11, 12  clicks dt: date(range_from) .. date(range_to + window)
--   13      window_seconds
--   14..17  model_predictions dt (as 3, 4), twice
--   18, 19  window_seconds, window_seconds
--   20      negative_rate in (0, 1]: the share of negatives kept
--   21, 22  negative_rate, negative_rate
WITH
flagged AS (
  SELECT DISTINCT event_type, event_id
  FROM suspicious_events
  WHERE dt BETWEEN ? AND ?
),
replayed AS (
  SELECT prediction_id
  FROM model_predictions
  WHERE dt BETWEEN ? AND ?
  GROUP BY prediction_id
  HAVING count(*) > 1
),
shown AS (
  SELECT
    i.prediction_id,
    min_by(i.impression_id, ROW(i.timestamp, i.impression_id)) AS impression_id,
    min(i.timestamp) AS shown_at
  FROM ad_impressions i
  LEFT JOIN flagged f ON f.event_type = 'impression' AND f.event_id = i.impression_id
  WHERE i.dt BETWEEN ? AND ?
    AND i.timestamp >= CAST(? AS TIMESTAMP)
    AND i.timestamp < CAST(? AS TIMESTAMP)
    AND i.timestamp <= CAST(? AS TIMESTAMP) - CAST(? AS BIGINT) * INTERVAL '1' SECOND
    AND i.prediction_id IS NOT NULL
    AND f.event_id IS NULL
  GROUP BY i.prediction_id
),
clicked AS (
  SELECT DISTINCT s.prediction_id
  FROM shown s
  JOIN clicks c ON c.impression_id = s.impression_id
  LEFT JOIN flagged f ON f.event_type = 'click' AND f.event_id = c.click_id
  WHERE c.dt BETWEEN ? AND ?
    AND c.clicked
    AND c.timestamp >= s.shown_at
    AND c.timestamp <= s.shown_at + CAST(? AS BIGINT) * INTERVAL '1' SECOND
    AND f.event_id IS NULL
),
predictions AS (
  -- A prediction delivered once, as it is; one delivered more than once, once (arbitrary():
  -- its replays are identical copies).
  SELECT m.prediction_id, m.ad_id, m.features, m.model_version, m.timestamp
  FROM model_predictions m
  LEFT JOIN replayed r ON r.prediction_id = m.prediction_id
  WHERE m.dt BETWEEN ? AND ?
    AND r.prediction_id IS NULL
  UNION ALL
  SELECT m.prediction_id, arbitrary(m.ad_id), arbitrary(m.features), arbitrary(m.model_version), arbitrary(m.timestamp)
  FROM model_predictions m
  JOIN replayed r ON r.prediction_id = m.prediction_id
  WHERE m.dt BETWEEN ? AND ?
  GROUP BY m.prediction_id
),
examples AS (
  SELECT
    s.prediction_id,
    s.impression_id,
    p.ad_id,
    p.features,
    p.model_version,
    p.timestamp AS predicted_at,
    s.shown_at
  FROM shown s
  JOIN predictions p ON p.prediction_id = s.prediction_id
  WHERE p.timestamp >= s.shown_at - CAST(? AS BIGINT) * INTERVAL '1' SECOND
    AND p.timestamp <= s.shown_at + CAST(? AS BIGINT) * INTERVAL '1' SECOND
)
SELECT
  e.prediction_id,
  e.impression_id,
  e.ad_id,
  CAST(CASE WHEN k.prediction_id IS NULL THEN 0 ELSE 1 END AS BIGINT) AS label,
  e.features,
  e.model_version,
  CAST(CASE WHEN k.prediction_id IS NULL THEN 1 / CAST(? AS DOUBLE) ELSE 1 END AS DOUBLE) AS sample_weight,
  e.predicted_at AS timestamp,
  e.shown_at AS impression_timestamp
FROM examples e
LEFT JOIN clicked k ON k.prediction_id = e.prediction_id
WHERE k.prediction_id IS NOT NULL
  OR CAST(? AS DOUBLE) >= 1
  -- A uniform draw in [0, 1) from the first 32 bits of md5(prediction_id), kept below the rate.
  OR from_base(substr(to_hex(md5(to_utf8(e.prediction_id))), 1, 8), 16) < CAST(? AS DOUBLE) * 4294967296
