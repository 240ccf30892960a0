"""What the lake's Glue jobs share: argument checks, the lake's S3 layout, the SQL files, and
a Spark session that reads and writes the lake's Parquet as the rest of the system does.

Shipped to Glue with the jobs (--extra-py-files); the jobs' SQL (sql/glue/*.sql) ships beside
them (--extra-files). Nothing here imports Glue or Spark at module level, so that the module
compiles and imports anywhere.
"""

import math
import os
import re

NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
DT = re.compile(r"^\d{4}-\d{2}-\d{2}$")
HOUR = re.compile(r"^(?:[01]\d|2[0-3])$")
# Pseudonyms are keyed HMACs: hex (or base64url) text, never anything a SQL text could mistake.
PSEUDONYM = re.compile(r"^[A-Za-z0-9_-]{8,128}$")


class JobArgumentError(ValueError):
    """An argument the job cannot use; the message names it."""


def check_name(args, key):
    value = args.get(key, "")
    if not NAME.match(value):
        raise JobArgumentError(f"--{key} must be a lower-case identifier, got {value!r}")
    return value


def check_lake_prefix(args):
    prefix = args.get("lake_prefix", "").strip("/")
    if not prefix or ".." in prefix.split("/"):
        raise JobArgumentError(f"--lake_prefix must be a key prefix, got {args.get('lake_prefix')!r}")
    return prefix


def check_partition(dt, hour):
    if not DT.match(dt):
        raise JobArgumentError(f"a partition's dt must be YYYY-MM-DD, got {dt!r}")
    if not HOUR.match(hour):
        raise JobArgumentError(f"a partition's hour must be 00 to 23, got {hour!r}")
    return dt, hour


def partition_prefix(lake_prefix, table, dt, hour):
    return f"{lake_prefix}/{table}/dt={dt}/hour={hour}/"


def output_files(total_bytes, target_file_mb):
    """How many files of about target_file_mb hold total_bytes (at least one)."""
    return max(1, math.ceil(total_bytes / (target_file_mb * 1024 * 1024)))


def read_sql(name):
    """The text of sql/glue/<name>.sql, shipped beside the scripts or in the working directory."""
    for folder in (os.path.dirname(os.path.abspath(__file__)), os.getcwd()):
        path = os.path.join(folder, f"{name}.sql")
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                return f.read()
    raise FileNotFoundError(f"{name}.sql is neither beside the job scripts nor in the working directory")


def list_keys(s3, bucket, prefix, delimiter=None):
    """The objects under the prefix (only those directly under it, with a delimiter): [(key, size)]."""
    extra = {"Delimiter": delimiter} if delimiter else {}
    out = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix, **extra):
        out.extend((obj["Key"], obj["Size"]) for obj in page.get("Contents", []))
    return out


def list_parquet(s3, bucket, prefix):
    """The Parquet objects of a partition (not of folders below it): [(key, size)]."""
    return [(k, size) for k, size in list_keys(s3, bucket, prefix, "/") if k.endswith(".parquet")]


def delete_keys(s3, bucket, keys):
    """Deletes the current versions of the keys (a versioned bucket keeps the older ones)."""
    for start in range(0, len(keys), 1000):
        batch = [{"Key": k} for k in keys[start : start + 1000]]
        result = s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
        if result.get("Errors"):
            raise RuntimeError(f"could not delete {len(result['Errors'])} objects, e.g. {result['Errors'][0]}")


def delete_versions(s3, bucket, prefix, keep):
    """Deletes every version and delete marker under the prefix except the current versions of
    the keys in `keep`; returns how many were deleted."""
    doomed = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
        for v in page.get("Versions", []):
            if not (v["IsLatest"] and v["Key"] in keep):
                doomed.append({"Key": v["Key"], "VersionId": v["VersionId"]})
        for marker in page.get("DeleteMarkers", []):
            doomed.append({"Key": marker["Key"], "VersionId": marker["VersionId"]})
    for start in range(0, len(doomed), 1000):
        result = s3.delete_objects(Bucket=bucket, Delete={"Objects": doomed[start : start + 1000], "Quiet": True})
        if result.get("Errors"):
            raise RuntimeError(f"could not delete {len(result['Errors'])} versions, e.g. {result['Errors'][0]}")
    return len(doomed)


def staged_data_files(s3, bucket, prefix):
    """The data files Spark wrote under the prefix (not its _SUCCESS and commit markers)."""
    keys = [k for k, _ in list_keys(s3, bucket, prefix)]
    return sorted(k for k in keys if k.endswith(".parquet") and not k.rsplit("/", 1)[-1].startswith("_"))


def publish(s3, bucket, staged, partition, stem):
    """Copies the staged files into the partition as <stem>-<n>.parquet; returns their keys."""
    written = []
    for n, key in enumerate(staged):
        target = f"{partition}{stem}-{n:05d}.parquet"
        s3.copy({"Bucket": bucket, "Key": key}, bucket, target)
        written.append(target)
    return written


def spark_session():
    from awsglue.context import GlueContext
    from pyspark.context import SparkContext

    spark = GlueContext(SparkContext.getOrCreate()).spark_session
    # The lake's timestamps are plain TIMESTAMP_MICROS holding UTC (parquet-writer.ts): read and
    # write them so, never as INT96 nor shifted by a session time zone.
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    spark.conf.set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
    return spark


def read_partition(spark, bucket, snapshot):
    """The rows of the snapshot's files; files written before a column was added read it as null."""
    return spark.read.option("mergeSchema", "true").parquet(*[f"s3://{bucket}/{key}" for key, _ in snapshot])
