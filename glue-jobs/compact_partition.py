"""Glue job: compact one partition of a lake table.

Firehose (and replayed deliveries) leave many small Parquet files in each
`<table>/dt=YYYY-MM-DD/hour=HH/` partition, and Athena pays for every file it opens. This job
merges the files of one closed partition into a few large ones, each event once, with the SQL
the tests run on DuckDB (sql/glue/compact-partition.sql), then puts them in place:

1. list the partition's Parquet objects: a snapshot (files that land later are left alone);
2. read them, keep one row per id, write the rows to a staging prefix outside every table;
3. copy the staged files into the partition as `compacted-<run>-<n>.parquet`;
4. delete the snapshot's objects (the bucket's lifecycle rule expires noncurrent versions).

Between 3 and 4 a reader may see an event twice; every reader de-duplicates on the id column, as
it must anyway (delivery is at least once), so its answers do not change. Running the job again
on the same partition is safe: it compacts the compacted files (and any late arrivals) again.

Arguments (Glue passes each as --name value):
  --bucket          the lake bucket
  --lake_prefix     the key prefix of the lake (tables below it, e.g. "lake")
  --table           the lake table (its folder name)
  --id_column       the table's id column (LAKE_TABLES' idColumn, passed by the CDK stack)
  --dt, --hour      the partition: YYYY-MM-DD, HH (UTC)
  --target_file_mb  optional, the size of the files written (default 256)
"""

import json
import sys
import uuid

from lake_jobs import (
    JobArgumentError,
    check_lake_prefix,
    check_name,
    check_partition,
    delete_keys,
    list_keys,
    list_parquet,
    output_files,
    partition_prefix,
    publish,
    read_partition,
    read_sql,
    spark_session,
    staged_data_files,
)

DEFAULT_TARGET_FILE_MB = 256


def check_args(args):
    """The job's arguments, checked; raises JobArgumentError naming the first bad one."""
    target = int(args.get("target_file_mb") or DEFAULT_TARGET_FILE_MB)
    if not 16 <= target <= 2048:
        raise JobArgumentError(f"--target_file_mb must be in [16, 2048], got {target}")
    dt, hour = check_partition(args.get("dt", ""), args.get("hour", ""))
    return {
        "bucket": args["bucket"],
        "lake_prefix": check_lake_prefix(args),
        "table": check_name(args, "table"),
        "id_column": check_name(args, "id_column"),
        "dt": dt,
        "hour": hour,
        "target_file_mb": target,
    }


def compact(spark, s3, args):
    bucket = args["bucket"]
    prefix = partition_prefix(args["lake_prefix"], args["table"], args["dt"], args["hour"])
    snapshot = list_parquet(s3, bucket, prefix)
    if len(snapshot) <= 1:
        return {"partition": prefix, "files_before": len(snapshot), "files_after": len(snapshot)}

    rows = read_partition(spark, bucket, snapshot)
    columns = rows.columns
    if args["id_column"] not in columns:
        raise JobArgumentError(f"--id_column {args['id_column']} is not a column of {prefix} ({', '.join(columns)})")
    rows.withColumn("row_id", rows[args["id_column"]]).createOrReplaceTempView("partition_rows")
    compacted = spark.sql(read_sql("compact-partition")).select(*columns)

    run = uuid.uuid4().hex[:12]
    staging = f"{args['lake_prefix']}/_staging/compaction/{args['table']}/dt={args['dt']}/hour={args['hour']}/{run}/"
    files = output_files(sum(size for _, size in snapshot), args["target_file_mb"])
    compacted.repartition(files).write.mode("errorifexists").option("compression", "snappy").parquet(
        f"s3://{bucket}/{staging}"
    )
    written = publish(s3, bucket, staged_data_files(s3, bucket, staging), prefix, f"compacted-{run}")
    delete_keys(s3, bucket, [key for key, _ in snapshot])
    delete_keys(s3, bucket, [key for key, _ in list_keys(s3, bucket, staging)])
    return {"partition": prefix, "files_before": len(snapshot), "files_after": len(written)}


def main(argv):
    import boto3
    from awsglue.utils import getResolvedOptions

    names = ["JOB_NAME", "bucket", "lake_prefix", "table", "id_column", "dt", "hour"]
    optional = [n for n in ("target_file_mb",) if f"--{n}" in argv]
    args = check_args(getResolvedOptions(argv, names + optional))
    result = compact(spark_session(), boto3.client("s3"), args)
    print(json.dumps({"job": "compact_partition", **result}))


if __name__ == "__main__":
    main(sys.argv)
