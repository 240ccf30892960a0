-- Model online metrics (GET /analytics/models): per model version and variant, over the counted
-- impressions that followed one of its predictions: log loss, AUC, calibration, and the
-- reliability diagram. One row per (model_version, variant, bin) with the pair's overall figures
-- repeated on each. Definitions: docs/analytics.md.
--
-- - Log loss clips probabilities to [1e-15, 1 - 1e-15], as sagemaker/model/metrics.ts does.
-- - AUC from bucketed scores: the Mann-Whitney statistic over buckets of 0.01 in log-odds
--   (ties inside a bucket count one half), so the work is bounded by buckets, not rows.
-- - Reliability bins have fixed edges on a 1-2-5 scale (RELIABILITY_EDGES in
--   lambdas/core/schemas/analytics.ts): bin k holds probabilities in [edge k, edge k+1).
-- - Explored impressions: those whose prediction carried an exploration bonus.
-- Everything above is computed from one aggregation of the labelled impressions, read once.
--
-- Serving figures of the pair, over its predictions made in [range_from, range_to), shown or not
-- (the prediction log's own de-duplicated rows): fallbacks, the model latency's median and 99th
-- percentile (approx_percentile: Trino's, a DuckDB macro over approx_quantile locally; NULL when
-- no prediction was timed), and the explored predictions with the sum of their bonuses. They sit
-- on every row of the pair, like its totals; a pair appears only with counted impressions.
-- `predictions` is referenced twice, and Trino inlines a CTE: Athena reads the few columns of
-- model_predictions these need a second time, a small price beside a second query.
--
-- Parameters: the 25 of analytics/labelled-impressions, then
--   26, 27  range_from (inclusive), range_to (exclusive): when the predictions were made
-- @include analytics/labelled-impressions
,
scored AS (
  SELECT
    model_version,
    variant,
    clicked,
    probability,
    CASE WHEN exploration_bonus IS NULL THEN 0 ELSE 1 END AS explored,
    least(greatest(probability, 1e-15), 1 - 1e-15) AS clipped,
    CASE
      WHEN probability < 0.001 THEN 0
      WHEN probability < 0.002 THEN 1
      WHEN probability < 0.005 THEN 2
      WHEN probability < 0.01 THEN 3
      WHEN probability < 0.02 THEN 4
      WHEN probability < 0.05 THEN 5
      WHEN probability < 0.1 THEN 6
      WHEN probability < 0.2 THEN 7
      WHEN probability < 0.5 THEN 8
      ELSE 9
    END AS bin
  FROM labelled
  WHERE prediction_id IS NOT NULL
),
cells AS (
  SELECT
    model_version,
    variant,
    bin,
    CAST(floor(ln(clipped / (1 - clipped)) * 100) AS BIGINT) AS score_bucket,
    count(*) AS impressions,
    CAST(sum(clicked) AS BIGINT) AS clicks,
    sum(probability) AS sum_probability,
    sum(CASE WHEN clicked = 1 THEN -ln(clipped) ELSE -ln(1 - clipped) END) AS sum_log_loss,
    CAST(sum(explored) AS BIGINT) AS explored_impressions,
    CAST(sum(explored * clicked) AS BIGINT) AS explored_clicks
  FROM scored
  GROUP BY 1, 2, 3, 4
),
ranked AS (
  -- Each positive against the negatives of lower buckets (1) and of its own bucket (1/2).
  SELECT
    model_version,
    variant,
    bin,
    impressions,
    clicks,
    sum_probability,
    sum_log_loss,
    explored_impressions,
    explored_clicks,
    CAST(clicks AS DOUBLE) * (
      sum(impressions - clicks) OVER (PARTITION BY model_version, variant ORDER BY score_bucket)
      - 0.5 * sum(impressions - clicks) OVER (PARTITION BY model_version, variant, score_bucket)
    ) AS auc_pairs
  FROM cells
),
bins AS (
  SELECT
    model_version,
    variant,
    bin,
    CAST(sum(impressions) AS BIGINT) AS bin_impressions,
    CAST(sum(clicks) AS BIGINT) AS bin_clicks,
    sum(sum_probability) AS bin_sum_probability,
    sum(sum_log_loss) AS bin_sum_log_loss,
    sum(auc_pairs) AS bin_auc_pairs,
    sum(explored_impressions) AS bin_explored_impressions,
    sum(explored_clicks) AS bin_explored_clicks
  FROM ranked
  GROUP BY 1, 2, 3
),
totals AS (
  SELECT
    model_version,
    variant,
    bin,
    bin_impressions,
    bin_clicks,
    bin_sum_probability,
    sum(bin_impressions) OVER (PARTITION BY model_version, variant) AS impressions,
    sum(bin_clicks) OVER (PARTITION BY model_version, variant) AS clicks,
    sum(bin_sum_probability) OVER (PARTITION BY model_version, variant) AS sum_probability,
    sum(bin_sum_log_loss) OVER (PARTITION BY model_version, variant) AS sum_log_loss,
    sum(bin_auc_pairs) OVER (PARTITION BY model_version, variant) AS auc_pairs,
    sum(bin_explored_impressions) OVER (PARTITION BY model_version, variant) AS explored_impressions,
    sum(bin_explored_clicks) OVER (PARTITION BY model_version, variant) AS explored_clicks
  FROM bins
),
serving AS (
  SELECT
    model_version,
    variant,
    count(*) AS predictions,
    sum(CASE WHEN fallback THEN 1 ELSE 0 END) AS fallback_predictions,
    count(model_latency_ms) AS timed_predictions,
    approx_percentile(model_latency_ms, 0.5) AS latency_p50_ms,
    approx_percentile(model_latency_ms, 0.99) AS latency_p99_ms,
    count(exploration_bonus) AS explored_predictions,
    coalesce(sum(exploration_bonus), 0) AS sum_exploration_bonus
  FROM predictions
  WHERE predicted_at >= CAST(? AS TIMESTAMP)
    AND predicted_at < CAST(? AS TIMESTAMP)
  GROUP BY 1, 2
)
SELECT
  t.model_version,
  t.variant,
  CAST(t.impressions AS BIGINT) AS impressions,
  CAST(t.clicks AS BIGINT) AS clicks,
  t.sum_probability,
  t.sum_log_loss / t.impressions AS log_loss,
  t.auc_pairs / nullif(CAST(t.clicks AS DOUBLE) * (t.impressions - t.clicks), 0) AS auc,
  t.sum_probability / nullif(t.clicks, 0) AS calibration,
  t.bin,
  t.bin_impressions,
  t.bin_clicks,
  t.bin_sum_probability,
  t.bin_sum_probability / t.bin_impressions AS bin_mean_prediction,
  CAST(t.bin_clicks AS DOUBLE) / t.bin_impressions AS bin_observed_rate,
  CAST(t.explored_impressions AS BIGINT) AS explored_impressions,
  CAST(t.explored_clicks AS BIGINT) AS explored_clicks,
  CAST(coalesce(s.predictions, 0) AS BIGINT) AS predictions,
  CAST(coalesce(s.fallback_predictions, 0) AS BIGINT) AS fallback_predictions,
  CAST(coalesce(s.timed_predictions, 0) AS BIGINT) AS timed_predictions,
  s.latency_p50_ms,
  s.latency_p99_ms,
  CAST(coalesce(s.explored_predictions, 0) AS BIGINT) AS explored_predictions,
  coalesce(s.sum_exploration_bonus, 0) AS sum_exploration_bonus
FROM totals t
LEFT JOIN serving s ON s.model_version = t.model_version AND s.variant = t.variant
ORDER BY t.model_version, t.variant, t.bin
