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
-- Everything is computed from one aggregation of the labelled impressions, read once.
--
-- Parameters: the 25 of analytics/labelled-impressions, nothing else.
-- @include analytics/labelled-impressions
,
scored AS (
  SELECT
    model_version,
    variant,
    clicked,
    probability,
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
    sum(CASE WHEN clicked = 1 THEN -ln(clipped) ELSE -ln(1 - clipped) END) AS sum_log_loss
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
    sum(auc_pairs) AS bin_auc_pairs
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
    sum(bin_auc_pairs) OVER (PARTITION BY model_version, variant) AS auc_pairs
  FROM bins
)
SELECT
  model_version,
  variant,
  CAST(impressions AS BIGINT) AS impressions,
  CAST(clicks AS BIGINT) AS clicks,
  sum_probability,
  sum_log_loss / impressions AS log_loss,
  auc_pairs / nullif(CAST(clicks AS DOUBLE) * (impressions - clicks), 0) AS auc,
  sum_probability / nullif(clicks, 0) AS calibration,
  bin,
  bin_impressions,
  bin_clicks,
  bin_sum_probability,
  bin_sum_probability / bin_impressions AS bin_mean_prediction,
  CAST(bin_clicks AS DOUBLE) / bin_impressions AS bin_observed_rate
FROM totals
ORDER BY model_version, variant, bin
