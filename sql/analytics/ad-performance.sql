-- Ad performance (GET /analytics/ad-performance): per ad and period (hour or day, UTC) the
-- counted impressions, the clicked ones, CTR, the mean predicted CTR and calibration (mean
-- predicted / observed, over the impressions that have a prediction). Definitions:
-- docs/analytics.md. The additive columns (impressions, clicks, predicted_impressions,
-- predicted_clicks, sum_probability) are what hourly rollups store and add up.
--
-- Parameters: the 25 of analytics/labelled-impressions, then
--   26      granularity     'hour' or 'day'
--   27, 28  ad_id           the ad, twice (NULL for every ad)
--   29      row_limit       integer, rows returned at most
-- @include analytics/labelled-impressions
SELECT
  ad_id,
  CASE WHEN ? = 'day' THEN date_trunc('day', shown_at) ELSE date_trunc('hour', shown_at) END AS period_start,
  count(*) AS impressions,
  CAST(sum(clicked) AS BIGINT) AS clicks,
  count(prediction_id) AS predicted_impressions,
  CAST(sum(CASE WHEN prediction_id IS NULL THEN 0 ELSE clicked END) AS BIGINT) AS predicted_clicks,
  coalesce(sum(probability), 0) AS sum_probability,
  CAST(sum(clicked) AS DOUBLE) / count(*) AS ctr,
  sum(probability) / nullif(count(prediction_id), 0) AS mean_predicted_ctr,
  sum(probability) / nullif(sum(CASE WHEN prediction_id IS NULL THEN 0 ELSE clicked END), 0) AS calibration
FROM labelled
WHERE CAST(? AS VARCHAR) IS NULL OR ad_id = CAST(? AS VARCHAR)
GROUP BY 1, 2
ORDER BY period_start, ad_id
LIMIT ?
