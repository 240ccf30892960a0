"""Glue job: the erasure rewrite (DELETE /users/{user_id}, issue 8).

Rewrites the given partitions of one lake table without the rows of the given users (their
pseudonyms), with the SQL the tests run on DuckDB (sql/glue/rewrite-partition.sql), then removes
every trace of the old objects. For each partition:

1. list its Parquet objects: a snapshot;
2. read them, keep the rows of everybody else, count both;
3. if any row goes: write the kept rows to a staging prefix outside every table, copy them into
   the partition as `rewritten-<erasure>-<run>-<n>.parquet`, delete the snapshot's objects;
4. always: delete every noncurrent version and delete marker under the partition (the user's rows
   may survive in an earlier compaction's deleted files), and the staging objects with theirs.

The partitions come from the caller (an Athena query for the users' partitions in issue 8); a
partition without their rows costs a read and no write. Running the job again is safe. The
table must have a user_id column (ad_impressions, clicks, model_predictions, suspicious_events);
training_examples is derived: rebuilding its hours after this rewrite drops the users' examples.

Arguments (Glue passes each as --name value):
  --bucket, --lake_prefix, --table   as for compact_partition.py
  --partitions    comma-separated YYYY-MM-DD/HH, e.g. 2026-12-01/10,2026-12-01/11
  --users         comma-separated pseudonyms, and/or
  --users_uri     s3://bucket/key of a file with one pseudonym a line
  --erasure_id    the erasure's id (names the files written; [A-Za-z0-9_-], at most 64)
  --receipt_uri   optional s3://bucket/key where the JSON receipt is written
"""

import json
import re
import sys
import uuid

from lake_jobs import (
    PSEUDONYM,
    JobArgumentError,
    check_lake_prefix,
    check_name,
    check_partition,
    delete_keys,
    delete_versions,
    list_parquet,
    partition_prefix,
    publish,
    read_partition,
    read_sql,
    spark_session,
    staged_data_files,
)

ERASURE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
S3_URI = re.compile(r"^s3://([^/]+)/(.+)$")
MAX_PARTITIONS = 400 * 24


def parse_partitions(text):
    """[(dt, hour)] from "YYYY-MM-DD/HH,..." (duplicates dropped, order kept)."""
    out = []
    for item in (p.strip() for p in text.split(",")):
        if not item:
            continue
        dt, _, hour = item.partition("/")
        pair = check_partition(dt, hour)
        if pair not in out:
            out.append(pair)
    if not out or len(out) > MAX_PARTITIONS:
        raise JobArgumentError(f"--partitions must name 1 to {MAX_PARTITIONS} partitions")
    return out


def parse_users(lines):
    users = sorted({u.strip() for u in lines if u.strip()})
    bad = [u for u in users if not PSEUDONYM.match(u)]
    if bad:
        raise JobArgumentError(f"not a pseudonym: {bad[0]!r} (the lake holds keyed-HMAC pseudonyms, never raw ids)")
    if not users:
        raise JobArgumentError("no users given (--users or --users_uri)")
    return users


def s3_location(uri, option):
    m = S3_URI.match(uri)
    if not m:
        raise JobArgumentError(f"{option} must be s3://bucket/key, got {uri!r}")
    return m.group(1), m.group(2)


def rewrite(spark, s3, args, dt, hour):
    bucket = args["bucket"]
    prefix = partition_prefix(args["lake_prefix"], args["table"], dt, hour)
    snapshot = list_parquet(s3, bucket, prefix)
    receipt = {"dt": dt, "hour": hour, "rows_before": 0, "rows_after": 0, "files_replaced": 0, "files_written": 0}
    if snapshot:
        rows = read_partition(spark, bucket, snapshot)
        if "user_id" not in rows.columns:
            raise JobArgumentError(f"{args['table']} has no user_id column; it cannot be rewritten by user")
        rows.createOrReplaceTempView("partition_rows")
        kept = spark.sql(read_sql("rewrite-partition"))
        before, after = rows.count(), kept.count()
        receipt.update(rows_before=before, rows_after=after)
        if after < before:
            run = uuid.uuid4().hex[:12]
            staging = f"{args['lake_prefix']}/_staging/erasure/{args['erasure_id']}/{run}/"
            written = []
            if after > 0:
                kept.write.mode("errorifexists").option("compression", "snappy").parquet(f"s3://{bucket}/{staging}")
                stem = f"rewritten-{args['erasure_id']}-{run}"
                written = publish(s3, bucket, staged_data_files(s3, bucket, staging), prefix, stem)
            delete_keys(s3, bucket, [key for key, _ in snapshot])
            delete_versions(s3, bucket, staging, keep=set())
            receipt.update(files_replaced=len(snapshot), files_written=len(written))
    # Whatever is current now (the rewritten files, late arrivals) stays; every older version goes.
    current = {key for key, _ in list_parquet(s3, bucket, prefix)}
    receipt["versions_deleted"] = delete_versions(s3, bucket, prefix, keep=current)
    return receipt


def main(argv):
    import boto3
    from awsglue.utils import getResolvedOptions

    names = ["JOB_NAME", "bucket", "lake_prefix", "table", "partitions", "erasure_id"]
    optional = [n for n in ("users", "users_uri", "receipt_uri") if f"--{n}" in argv]
    raw = getResolvedOptions(argv, names + optional)
    if not ERASURE_ID.match(raw["erasure_id"]):
        raise JobArgumentError(f"--erasure_id must be 1 to 64 of [A-Za-z0-9_-], got {raw['erasure_id']!r}")
    s3 = boto3.client("s3")
    lines = raw.get("users", "").split(",")
    if raw.get("users_uri"):
        src_bucket, src_key = s3_location(raw["users_uri"], "--users_uri")
        lines += s3.get_object(Bucket=src_bucket, Key=src_key)["Body"].read().decode("utf-8").splitlines()
    users = parse_users(lines)
    args = {
        "bucket": raw["bucket"],
        "lake_prefix": check_lake_prefix(raw),
        "table": check_name(raw, "table"),
        "erasure_id": raw["erasure_id"],
    }
    partitions = parse_partitions(raw["partitions"])

    spark = spark_session()
    spark.createDataFrame([(u,) for u in users], "user_id string").createOrReplaceTempView("erased_users")
    receipt = {
        "job": "rewrite_partition",
        "erasure_id": args["erasure_id"],
        "table": args["table"],
        "users": len(users),
        "partitions": [rewrite(spark, s3, args, dt, hour) for dt, hour in partitions],
    }
    text = json.dumps(receipt)
    if raw.get("receipt_uri"):
        out_bucket, out_key = s3_location(raw["receipt_uri"], "--receipt_uri")
        s3.put_object(Bucket=out_bucket, Key=out_key, Body=text.encode("utf-8"), ContentType="application/json")
    print(text)


if __name__ == "__main__":
    main(sys.argv)
