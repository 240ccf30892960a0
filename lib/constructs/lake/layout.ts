/**
 * Where things live in the lake bucket, and the names the runtime must know. The Glue jobs
 * (glue-jobs/lake_jobs.py), the Glue tables' locations and the Firehose prefixes all follow this
 * one layout: `<LAKE_PREFIX>/<table>/dt=YYYY-MM-DD/hour=HH/` in event time, UTC.
 */
import type { LakeTableName } from '../../../lambdas/core/lake/tables.js';

/** Key prefix of every lake table (the Glue jobs' `--lake_prefix`; they stage under `<it>/_staging/`). */
export const LAKE_PREFIX = 'lake';

/** Erasure's users files and receipts (issue 8): `erasures/<id>/…` in the lake bucket. */
export const ERASURES_PREFIX = 'erasures/';

/** Firehose's records that failed conversion or delivery, per table, outside every table's prefix. */
export const LAKE_ERRORS_PREFIX = 'lake-errors';

/**
 * Days Firehose error records are kept: long enough to notice a schema mismatch and replay the
 * records, short because they hold (pseudonymised) personal data that erasure does not rewrite.
 */
export const LAKE_ERRORS_RETENTION_DAYS = 30;

/**
 * Days a noncurrent object version survives. Erasure (issue 8) rewrites partitions and deletes
 * their old versions itself, but compaction leaves its replaced files to this rule; a user's rows
 * in such a version would outlive the erasure by at most this long. One day is the shortest S3
 * allows and still undoes an accidental overwrite or delete noticed the same day.
 */
export const NONCURRENT_VERSION_DAYS = 1;

/** The table's folder in the bucket, with a trailing slash. */
export function tablePrefix(table: LakeTableName): string {
  return `${LAKE_PREFIX}/${table}/`;
}

/** The Glue database of a stage: Glue and Athena names allow no hyphen. */
export function glueDatabaseName(prefix: string): string {
  return `${prefix.replace(/-/g, '_')}_lake`;
}

/** `ad_impressions` → `ad-impressions`: the hyphenated form physical names use. */
export function dashed(table: LakeTableName): string {
  return table.replace(/_/g, '-');
}
