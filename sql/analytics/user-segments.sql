-- User segments (GET /analytics/user-segments): users, impressions, clicks and CTR per segment of
-- one dimension: the impression's device_type, its location, or the user's activity level. A
-- user is in every device type and location segment they were seen in, so users do not add up
-- across those segments; each user has exactly one activity level. NULL: not reported.
-- Definitions (activity levels included): docs/analytics.md.
--
-- Parameters: the 25 of analytics/labelled-impressions, then
--   26  dimension    'device_type', 'location' or 'activity'
--   27  medium_from  counted impressions per active day (UTC) from which a user is 'medium'
--   28  heavy_from   ... and 'heavy' (below medium_from: 'light')
--   29  row_limit    integer, segments returned at most (most impressions first)
-- @include analytics/labelled-impressions
,
params AS (
  SELECT CAST(? AS VARCHAR) AS dimension, CAST(? AS DOUBLE) AS medium_from, CAST(? AS DOUBLE) AS heavy_from
),
-- Per user, day and device type or location: small enough to window over, and read once.
user_days AS (
  SELECT
    l.user_id,
    date_trunc('day', l.shown_at) AS day,
    CASE p.dimension WHEN 'device_type' THEN l.device_type WHEN 'location' THEN l.location END AS value,
    count(*) AS impressions,
    sum(l.clicked) AS clicks
  FROM labelled l
  CROSS JOIN params p
  GROUP BY 1, 2, 3
),
users AS (
  SELECT
    user_id,
    value,
    impressions,
    clicks,
    sum(impressions) OVER (PARTITION BY user_id) AS user_impressions,
    -- One row per (user, day) has first_of_day = 1: their sum is the user's active days.
    sum(first_of_day) OVER (PARTITION BY user_id) AS active_days
  FROM (
    SELECT
      user_id,
      value,
      impressions,
      clicks,
      CASE WHEN row_number() OVER (PARTITION BY user_id, day ORDER BY value) = 1 THEN 1 ELSE 0 END AS first_of_day
    FROM user_days
  ) AS days
),
segmented AS (
  SELECT
    CASE
      WHEN p.dimension <> 'activity' THEN u.value
      WHEN CAST(u.user_impressions AS DOUBLE) / u.active_days >= p.heavy_from THEN 'heavy'
      WHEN CAST(u.user_impressions AS DOUBLE) / u.active_days >= p.medium_from THEN 'medium'
      ELSE 'light'
    END AS segment,
    u.user_id,
    u.impressions,
    u.clicks
  FROM users u
  CROSS JOIN params p
)
SELECT
  segment,
  count(DISTINCT user_id) AS users,
  CAST(sum(impressions) AS BIGINT) AS impressions,
  CAST(sum(clicks) AS BIGINT) AS clicks,
  CAST(sum(clicks) AS DOUBLE) / sum(impressions) AS ctr
FROM segmented
GROUP BY segment
ORDER BY impressions DESC, segment
LIMIT ?
