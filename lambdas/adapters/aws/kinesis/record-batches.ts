/** Kinesis PutRecords limits, and the split of a stream's records into requests within them. */

/** Records in one PutRecords request. */
export const MAX_RECORDS_PER_REQUEST = 500;
/** Bytes of one PutRecords request, data blobs and partition keys together. */
export const MAX_BYTES_PER_REQUEST = 5 * 1024 * 1024;
/** Bytes of one record, data blob and partition key together. */
export const MAX_BYTES_PER_RECORD = 1024 * 1024;
/** Unicode characters of a partition key. */
export const MAX_PARTITION_KEY_LENGTH = 256;

export interface SizedRecord {
  /** Data blob plus partition key, in bytes. */
  readonly bytes: number;
}

/**
 * Splits records, in order, into requests of at most `maxRecords` records and `maxBytes` bytes
 * (each record must be within `maxBytes` on its own: the caller refuses larger ones up front).
 */
export function splitIntoRequests<T extends SizedRecord>(
  records: readonly T[],
  maxRecords = MAX_RECORDS_PER_REQUEST,
  maxBytes = MAX_BYTES_PER_REQUEST,
): T[][] {
  const requests: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const record of records) {
    if (current.length === maxRecords || (current.length > 0 && bytes + record.bytes > maxBytes)) {
      requests.push(current);
      current = [];
      bytes = 0;
    }
    current.push(record);
    bytes += record.bytes;
  }
  if (current.length > 0) requests.push(current);
  return requests;
}
