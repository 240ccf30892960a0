-- Erasure rewrite of one lake partition (glue-jobs/rewrite_partition.py, for DELETE /users/{id}):
-- the partition's rows without those of the erased users. A row without a user (a prediction
-- made with consent withheld) belongs to nobody and stays.
--
-- Input, prepared by the caller (Spark in Glue; DuckDB in test/integration/glue):
--   partition_rows  every row of the partition's files (a table with a user_id column:
--                   ad_impressions, clicks, model_predictions, suspicious_events)
--   erased_users    user_id: the pseudonyms (keyed HMAC) of the users to erase, none null
-- Output: the rows of partition_rows to keep, with the same columns.
SELECT r.*
FROM partition_rows r
WHERE NOT EXISTS (
  SELECT 1 FROM erased_users e WHERE e.user_id = r.user_id
)
