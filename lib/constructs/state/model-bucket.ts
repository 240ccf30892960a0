/**
 * The model bucket: uploaded artifacts, training output and the gate's holdout. The same hygiene
 * as the lake: KMS, TLS only, no public access, versioning, server access logs.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export interface ModelBucketProps {
  readonly encryptionKey: kms.IKey;
  /** Where the server access logs go (the lake's access-log bucket). */
  readonly accessLogBucket: s3.IBucket;
  /** @default 'models/' */
  readonly accessLogPrefix?: string;
  /**
   * Days a replaced or deleted artifact version is kept (a rollback needs the previous champion's
   * artifact, which is a current object: only overwritten copies expire).
   * @default 90
   */
  readonly noncurrentVersionDays?: number;
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

export class ModelBucket extends Construct {
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: ModelBucketProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: props.encryptionKey,
      // S3 asks KMS for a data key per bucket, not per object: artifacts are many small parts.
      bucketKeyEnabled: true,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      serverAccessLogsBucket: props.accessLogBucket,
      serverAccessLogsPrefix: props.accessLogPrefix ?? 'models/',
      lifecycleRules: [
        {
          id: 'expire-replaced-versions',
          noncurrentVersionExpiration: Duration.days(props.noncurrentVersionDays ?? 90),
          expiredObjectDeleteMarker: true,
        },
        // A presigned upload that never completed leaves parts nobody will assemble.
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      removalPolicy,
      autoDeleteObjects: false,
    });
  }
}
