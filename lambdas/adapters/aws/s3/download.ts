/**
 * Streams an S3 object to a local file under a byte limit: model artifacts are too large to hold
 * twice in memory (packed and unpacked) inside a Lambda, and the limit holds even when the
 * object's Content-Length was not what the stream delivers.
 */
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, type GetObjectCommandOutput } from '@aws-sdk/client-s3';
import type { S3Location } from './s3-uri.js';

/** What a download needs of an S3Client (an S3Client is one). */
export interface GetObjectClient {
  send(command: GetObjectCommand): Promise<GetObjectCommandOutput>;
}

/** The object does not exist (never uploaded, or deleted). */
export class S3ObjectMissingError extends Error {
  constructor(readonly location: S3Location) {
    super(`s3://${location.bucket}/${location.key} does not exist.`);
    this.name = 'S3ObjectMissingError';
  }
}

/** The object is larger than the caller accepts; nothing is kept. */
export class S3ObjectTooLargeError extends Error {
  constructor(
    readonly location: S3Location,
    readonly maxBytes: number,
  ) {
    super(`s3://${location.bucket}/${location.key} holds more than ${maxBytes} bytes.`);
    this.name = 'S3ObjectTooLargeError';
  }
}

function isMissing(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } } | null;
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}

/** Writes the object to `file` and returns its size; on any failure no file is left. */
export async function downloadObject(
  s3: GetObjectClient,
  location: S3Location,
  file: string,
  maxBytes: number,
): Promise<number> {
  let out: GetObjectCommandOutput;
  try {
    out = await s3.send(new GetObjectCommand({ Bucket: location.bucket, Key: location.key }));
  } catch (err) {
    if (isMissing(err)) throw new S3ObjectMissingError(location);
    throw err;
  }
  if (out.ContentLength !== undefined && out.ContentLength > maxBytes) {
    (out.Body as Readable | undefined)?.destroy?.();
    throw new S3ObjectTooLargeError(location, maxBytes);
  }
  if (!out.Body) throw new Error(`GetObject of s3://${location.bucket}/${location.key} returned no body.`);
  let bytes = 0;
  const limit = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      if (bytes > maxBytes) done(new S3ObjectTooLargeError(location, maxBytes));
      else done(null, chunk);
    },
  });
  try {
    // In Node the SDK's body is a Readable (an IncomingMessage with the SDK's stream mixin).
    await pipeline(out.Body as Readable, limit, createWriteStream(file, { flags: 'w', mode: 0o600 }));
  } catch (err) {
    await rm(file, { force: true });
    throw err;
  }
  return bytes;
}
