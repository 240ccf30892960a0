/**
 * The AWS ModelArtifactStore: artifacts live at `s3://<bucket>/<prefix><model_id>/artifact.tar.gz`.
 * The client PUTs the artifact straight to S3 with a presigned URL (API Gateway and Lambda take
 * bodies of a few MB, an artifact may be 64 MB); `inspect` downloads it into the Lambda's /tmp
 * and validates it exactly as the local store does (shared/model-artifact.ts).
 *
 * A presigned PUT cannot bound the body's size (only a POST policy can), so the limit is stated
 * in the upload response and enforced by `inspect`: a larger object is refused before it is read.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { InvalidArtifactError } from '../../../core/errors.js';
import type { ArtifactManifest, ModelArtifactStore } from '../../../core/ports.js';
import { DEFAULT_MAX_ARTIFACT_BYTES, unpackAndLoad } from '../../shared/model-artifact.js';
import { downloadObject, S3ObjectMissingError, S3ObjectTooLargeError } from './download.js';
import { formatS3Uri, parseS3Uri } from './s3-uri.js';

export const DEFAULT_UPLOAD_EXPIRY_SECONDS = 15 * 60;

/**
 * Options the composition root must give the S3Client used for presigning. By default the SDK
 * adds a CRC32 checksum of the (empty) body to a presigned PutObject URL, and S3 then refuses
 * every real upload to it with BadDigest.
 */
export const PRESIGNING_S3_CLIENT_OPTIONS = { requestChecksumCalculation: 'WHEN_REQUIRED' } as const;

export interface S3ArtifactStoreConfig {
  readonly bucket: string;
  /** Key prefix of the artifacts, e.g. `models/` (default). */
  readonly prefix?: string;
  /** The upload size limit (default 64 MiB). */
  readonly maxBytes?: number;
  /** How long an upload URL stays valid (default 15 min). */
  readonly expiresInSeconds?: number;
  /** Where `inspect` downloads and unpacks (default the OS temp dir, /tmp in Lambda). */
  readonly tmpDir?: string;
}

export class S3ArtifactStore implements ModelArtifactStore {
  private readonly prefix: string;
  private readonly maxBytes: number;
  private readonly expiresIn: number;
  private checkedClient: Promise<void> | undefined;

  constructor(
    private readonly s3: S3Client,
    private readonly config: S3ArtifactStoreConfig,
  ) {
    this.prefix = config.prefix ?? 'models/';
    this.maxBytes = config.maxBytes ?? DEFAULT_MAX_ARTIFACT_BYTES;
    this.expiresIn = config.expiresInSeconds ?? DEFAULT_UPLOAD_EXPIRY_SECONDS;
  }

  async createUploadTarget(modelId: string): Promise<{ url: string; maxBytes: number; artifactUri: string }> {
    await this.assertPresignableClient();
    const location = { bucket: this.config.bucket, key: `${this.prefix}${modelId}/artifact.tar.gz` };
    // Only the host is signed: the client may send any Content-Type (the CLI sends application/gzip).
    const url = await getSignedUrl(this.s3, new PutObjectCommand({ Bucket: location.bucket, Key: location.key }), {
      expiresIn: this.expiresIn,
    });
    return { url, maxBytes: this.maxBytes, artifactUri: formatS3Uri(location) };
  }

  async inspect(artifactUri: string): Promise<ArtifactManifest> {
    const location = parseS3Uri(artifactUri);
    if (!location || location.bucket !== this.config.bucket) {
      throw new InvalidArtifactError(`The artifact URI ${artifactUri} is not in the bucket ${this.config.bucket}.`);
    }
    const work = await mkdtemp(join(this.config.tmpDir ?? tmpdir(), 'adclick-inspect-'));
    try {
      const archive = join(work, 'artifact.tar.gz');
      let bytes: number;
      try {
        bytes = await downloadObject(this.s3, location, archive, this.maxBytes);
      } catch (err) {
        if (err instanceof S3ObjectMissingError)
          throw new InvalidArtifactError('No artifact was uploaded: PUT it to the upload_url first.');
        if (err instanceof S3ObjectTooLargeError)
          throw new InvalidArtifactError(`The artifact is larger than the limit of ${this.maxBytes} bytes.`);
        throw err;
      }
      return (await unpackAndLoad(archive, join(work, 'model'), bytes)).manifest;
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  private assertPresignableClient(): Promise<void> {
    this.checkedClient ??= (async () => {
      const setting = await this.s3.config.requestChecksumCalculation();
      if (setting !== 'WHEN_REQUIRED') {
        throw new TypeError(
          "The S3 client of the artifact store must be created with requestChecksumCalculation: 'WHEN_REQUIRED' " +
            '(PRESIGNING_S3_CLIENT_OPTIONS): otherwise presigned upload URLs carry an empty-body checksum and S3 refuses the upload.',
        );
      }
    })();
    return this.checkedClient;
  }
}
