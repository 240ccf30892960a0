/**
 * The event log's segment files: naming, the record format and crash recovery.
 *
 * A segment is an append-only text file, one record a line:
 *
 *     <crc32 of the payload, 8 lowercase hex digits> <table> <row as JSON>\n
 *
 * where the payload is `<table> <row as JSON>` (UTF-8); timestamps are milliseconds since the
 * epoch (UTC) or, equally accepted when read, ISO 8601 strings.
 * A record is valid when its line is complete (ends in `\n`) and its checksum matches, so a torn
 * last write (a crash in the middle of a write) is detected by the first invalid line.
 *
 * The active segment is `<base>.log`; a segment that will never be written again is renamed
 * `<base>.sealed`. `<base>` (`seg-<ms since epoch>-<instance>-<counter>`) is unique across
 * processes and sorts by creation time; the compactor derives its Parquet file names from it.
 */
import { open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { LAKE_TABLE_NAMES, type LakeTableName } from '../../../core/lake/tables.js';

export const ACTIVE_SUFFIX = '.log';
export const SEALED_SUFFIX = '.sealed';

const SEGMENT_NAME = /^(seg-\d{13}-[0-9a-f]{8}-\d{6})\.(log|sealed)$/;
const TABLES: ReadonlySet<string> = new Set(LAKE_TABLE_NAMES);
const NEWLINE = 0x0a;
const SPACE = 0x20;

/** CRC-32 (IEEE) of a string's UTF-8 bytes or of bytes; native `zlib.crc32` when the runtime has it. */
export const crc32: (data: string | Uint8Array) => number =
  typeof zlib.crc32 === 'function' ? (data) => zlib.crc32(data) : jsCrc32;

/** A fresh, unique segment base name. */
export function segmentBase(nowMs: number, instance: string, counter: number): string {
  return `seg-${String(Math.floor(nowMs)).padStart(13, '0')}-${instance}-${String(counter % 1_000_000).padStart(6, '0')}`;
}

/** The segment base and state of a file name in the log directory, or null for other files. */
export function parseSegmentFileName(name: string): { base: string; sealed: boolean } | null {
  const m = SEGMENT_NAME.exec(name);
  if (!m) return null;
  return { base: m[1]!, sealed: m[2] === 'sealed' };
}

/** One line of a segment (with its trailing newline) for a row already serialised to JSON. */
export function encodeRecord(table: LakeTableName, json: string): string {
  const payload = `${table} ${json}`;
  return `${(crc32(payload) >>> 0).toString(16).padStart(8, '0')} ${payload}\n`;
}

const HEX = '0123456789abcdef';

/**
 * Encodes record payloads (`<table> <row as JSON>`) into segment lines, into a buffer it reuses
 * between calls: the bytes returned are valid until the next call. The checksum is computed on
 * the encoded bytes, so each payload is converted to UTF-8 once.
 */
export class RecordEncoder {
  private buffer = Buffer.allocUnsafe(1 << 20);

  encode(payloads: readonly string[]): Buffer {
    let buf = this.buffer;
    let o = 0;
    for (let i = 0; i < payloads.length; i++) {
      const payload = payloads[i]!;
      const need = o + 10 + payload.length * 3;
      if (need > buf.length) {
        const grown = Buffer.allocUnsafe(Math.max(need, buf.length * 2));
        buf.copy(grown, 0, 0, o);
        buf = grown;
      }
      const start = o;
      o += 9;
      const n = buf.write(payload, o, 'utf8');
      let crc = crc32(buf.subarray(o, o + n)) >>> 0;
      for (let k = 7; k >= 0; k--) {
        buf[start + k] = HEX.charCodeAt(crc & 0xf);
        crc >>>= 4;
      }
      buf[start + 8] = SPACE;
      o += n;
      buf[o++] = NEWLINE;
    }
    // Keep a grown buffer for the next batch unless it is unusually large.
    this.buffer = buf.length <= 16 * 1024 * 1024 ? buf : Buffer.allocUnsafe(1 << 20);
    return buf.subarray(0, o);
  }
}

export interface ScanResult {
  /** Valid records seen. */
  readonly records: number;
  /** Bytes up to the end of the last valid record before the first invalid line (or the end). */
  readonly validBytes: number;
  /** Lines that were incomplete or failed their checksum (0 for a clean segment). */
  readonly badLines: number;
}

/**
 * Calls `onRecord` for each valid record of a segment's bytes, in order.
 * `stopAtBadLine`: stop at the first invalid line (a torn tail) instead of skipping it.
 */
export function scanSegment(
  bytes: Buffer,
  onRecord: (table: LakeTableName, json: string) => void,
  options: { stopAtBadLine: boolean },
): ScanResult {
  let records = 0;
  let badLines = 0;
  let validBytes = 0;
  let start = 0;
  const end = bytes.length;
  while (start < end) {
    const nl = bytes.indexOf(NEWLINE, start);
    const lineEnd = nl === -1 ? end : nl;
    const record = nl === -1 ? null : decodeLine(bytes, start, lineEnd);
    if (record === null) {
      badLines++;
      if (options.stopAtBadLine) break;
    } else {
      records++;
      if (badLines === 0) validBytes = lineEnd + 1;
      onRecord(record.table, record.json);
    }
    start = lineEnd + 1;
  }
  return { records, validBytes, badLines };
}

function decodeLine(bytes: Buffer, start: number, end: number): { table: LakeTableName; json: string } | null {
  if (end - start < 12 || bytes[start + 8] !== SPACE) return null;
  let expected = 0;
  for (let i = start; i < start + 8; i++) {
    const digit = hexValue(bytes[i]!);
    if (digit < 0) return null;
    expected = expected * 16 + digit;
  }
  if (crc32(bytes.subarray(start + 9, end)) >>> 0 !== expected) return null;
  const payload = bytes.toString('utf8', start + 9, end);
  const space = payload.indexOf(' ');
  if (space < 0) return null;
  const table = payload.slice(0, space);
  if (!TABLES.has(table)) return null;
  return { table: table as LakeTableName, json: payload.slice(space + 1) };
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  return -1;
}

export interface RecoveredSegment {
  /** The sealed segment, or null when nothing valid was left and the file was removed. */
  readonly path: string | null;
  readonly records: number;
  /** Bytes of the torn tail that were cut off. */
  readonly truncatedBytes: number;
}

/**
 * Seals a segment left active by a crash: cuts it at its first invalid line (only the last,
 * unacknowledged write can be torn: every acknowledged write was fsynced whole before the next
 * one started), fsyncs it and renames it `.sealed`. An empty result is deleted instead.
 * The caller fsyncs the directory.
 */
export async function sealCrashedSegment(dir: string, base: string): Promise<RecoveredSegment> {
  const activePath = join(dir, base + ACTIVE_SUFFIX);
  const bytes = await readFile(activePath);
  const scan = scanSegment(bytes, () => {}, { stopAtBadLine: true });
  if (scan.records === 0) {
    await rm(activePath, { force: true });
    return { path: null, records: 0, truncatedBytes: bytes.length };
  }
  if (scan.validBytes < bytes.length) {
    const fh = await open(activePath, 'r+');
    try {
      await fh.truncate(scan.validBytes);
      await fh.datasync();
    } finally {
      await fh.close();
    }
  }
  const sealedPath = join(dir, base + SEALED_SUFFIX);
  await rename(activePath, sealedPath);
  return { path: sealedPath, records: scan.records, truncatedBytes: bytes.length - scan.validBytes };
}

/** fsyncs a directory so that files created, renamed or removed in it stay so after a crash. */
export async function fsyncDir(dir: string): Promise<void> {
  let fh: Awaited<ReturnType<typeof open>> | undefined;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch (err) {
    // Some platforms (Windows) cannot open or fsync a directory; there is nothing more to do.
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL' && code !== 'EACCES') throw err;
  } finally {
    await fh?.close();
  }
}

let crcTable: Uint32Array | undefined;

function jsCrc32(data: string | Uint8Array): number {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = crcTable[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
