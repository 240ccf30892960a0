/** `s3://bucket/key` URIs, the form artifact URIs take in the model registry. */

export interface S3Location {
  readonly bucket: string;
  readonly key: string;
}

export function formatS3Uri({ bucket, key }: S3Location): string {
  return `s3://${bucket}/${key}`;
}

/** The bucket and key of an `s3://` URI, or undefined for anything else. */
export function parseS3Uri(uri: string): S3Location | undefined {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.+)$/.exec(uri);
  return match ? { bucket: match[1]!, key: match[2]! } : undefined;
}
