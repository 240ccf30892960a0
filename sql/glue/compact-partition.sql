-- Compaction of one lake partition (glue-jobs/compact_partition.py): the partition's rows, each
-- id once. Delivery is at least once, so a replayed event sits in the partition as another copy
-- under the same id (its received_at may differ); any copy is the event.
--
-- Input, prepared by the caller (Spark in Glue; DuckDB in test/integration/glue):
--   partition_rows  every row of the partition's files, plus row_id = the table's id column
--                   (impression_id, click_id, prediction_id or event_id; LAKE_TABLES' idColumn).
-- Output: the rows of partition_rows, one per row_id, with the extra column row_copy (always 1);
-- the caller drops row_id and row_copy before writing.
SELECT *
FROM (
  SELECT r.*, row_number() OVER (PARTITION BY r.row_id ORDER BY r.row_id) AS row_copy
  FROM partition_rows r
) numbered
WHERE row_copy = 1
