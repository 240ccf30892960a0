-- The partitions of the lake that hold rows of one user (DELETE /users/{user_id} in AWS): the
-- Glue erasure job (glue-jobs/rewrite_partition.py) is then started per table with these
-- partitions only. Athena reads just the user_id column (and the partition columns) of each table.
--
-- Parameters: the user's pseudonym, four times (one per table with a user_id column).
-- Output: lake_table, dt, hour, row_count.
SELECT 'ad_impressions' AS lake_table, dt, hour, count(*) AS row_count FROM ad_impressions WHERE user_id = ? GROUP BY dt, hour
UNION ALL
SELECT 'clicks' AS lake_table, dt, hour, count(*) AS row_count FROM clicks WHERE user_id = ? GROUP BY dt, hour
UNION ALL
SELECT 'model_predictions' AS lake_table, dt, hour, count(*) AS row_count FROM model_predictions WHERE user_id = ? GROUP BY dt, hour
UNION ALL
SELECT 'suspicious_events' AS lake_table, dt, hour, count(*) AS row_count FROM suspicious_events WHERE user_id = ? GROUP BY dt, hour
ORDER BY lake_table, dt, hour
