/**
 * An S3 bucket as every bucket of the lake must be: no public access, TLS only, versioned,
 * encrypted with the stage's key, its server access logs in the access-log bucket, and old
 * versions and failed uploads cleaned up.
 */
import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { NONCURRENT_VERSION_DAYS } from './layout.js';

export interface SecureBucketProps {
  /** Encrypts every object (SSE-KMS with an S3 Bucket Key, so KMS is called per bucket, not per object). */
  readonly encryptionKey: kms.IKey;
  /** Where S3 writes this bucket's server access logs. */
  readonly accessLogBucket: s3.IBucket;
  /** Prefix of this bucket's logs in the access-log bucket, with a trailing slash. */
  readonly accessLogPrefix: string;
  /** Expiry rules of its own (retention per prefix); the clean-up rules are always added. */
  readonly lifecycleRules?: readonly s3.LifecycleRule[];
  readonly removalPolicy: RemovalPolicy;
}

export class SecureBucket extends Construct {
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: SecureBucketProps) {
    super(scope, id);
    this.bucket = new s3.Bucket(this, 'Bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: props.encryptionKey,
      bucketKeyEnabled: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: props.accessLogBucket,
      serverAccessLogsPrefix: props.accessLogPrefix,
      removalPolicy: props.removalPolicy,
      lifecycleRules: [
        ...(props.lifecycleRules ?? []),
        {
          id: 'clean-up',
          noncurrentVersionExpiration: Duration.days(NONCURRENT_VERSION_DAYS),
          expiredObjectDeleteMarker: true,
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
    });
  }
}
