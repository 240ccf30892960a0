import * as z from 'zod';
import { DEFAULT_HOLDOUT_KEY } from '../adapters/aws/s3/s3-holdout-evaluator.js';
import { parseS3Uri, type S3Location } from '../adapters/aws/s3/s3-uri.js';
import type { VariantScalingPolicy } from '../adapters/aws/sagemaker/variant-autoscaling.js';
import type { LakeTableName } from '../core/lake/tables.js';
import { ConfigError, parseEnvironment } from './config-error.js';
import { type ErasureConfig, erasureConfigOf } from './erasure-config.js';
import { type PredictConfig, PredictEnvironment, predictConfigOf, resourceName } from './predict-config.js';

const name = resourceName;

/**
 * The environment of the API function, as issue 7's CDK stack sets it: the predict function's
 * (predict-config.ts) and what the other routes need. Unknown variables are ignored.
 */
export const ApiEnvironment = z.object({
  ...PredictEnvironment.shape,
  ADCLICK_IMPRESSIONS_STREAM: name,
  ADCLICK_CLICKS_STREAM: name,
  ADCLICK_SUSPICIOUS_EVENTS_STREAM: name,
  ADCLICK_MODEL_IMAGE_URI: z
    .string()
    .trim()
    .regex(
      /^[\w.-]+(:\d+)?\/[\w./-]+(:[\w.-]+|@sha256:[a-f0-9]{64})$/,
      'must be a container image URI with a tag or digest',
    ),
  ADCLICK_MODEL_EXECUTION_ROLE_ARN: z
    .string()
    .trim()
    .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, 'must be an IAM role ARN'),
  ADCLICK_MODEL_INSTANCE_TYPE: z
    .string()
    .trim()
    .regex(/^ml\.[a-z0-9]+\.[a-z0-9]+$/, 'must be a SageMaker instance type (ml.…)')
    .optional(),
  ADCLICK_MODEL_INSTANCE_COUNT: z.coerce.number().int('must be a whole number').min(1).max(100).optional(),
  // Autoscaling of the variants the runtime adds: all three, or none (no autoscaling calls at all).
  ADCLICK_MODEL_MIN_INSTANCES: z.coerce.number().int('must be a whole number').min(1).max(100).optional(),
  ADCLICK_MODEL_MAX_INSTANCES: z.coerce.number().int('must be a whole number').min(1).max(100).optional(),
  ADCLICK_MODEL_INVOCATIONS_PER_INSTANCE: z.coerce.number().positive('must be positive').max(10_000_000).optional(),
  ADCLICK_MODEL_BUCKET: name,
  ADCLICK_ATHENA_WORKGROUP: name,
  ADCLICK_ATHENA_DATABASE: name,
  ADCLICK_HOLDOUT_URI: z
    .string()
    .trim()
    .refine((uri) => parseS3Uri(uri) !== undefined, 'must be an s3://bucket/key URI')
    .optional(),
});

export { ConfigError };

export interface ApiConfig extends PredictConfig {
  readonly streams: Readonly<Partial<Record<LakeTableName, string>>>;
  /** How a newly activated model gets its production variant (EndpointDeployment). */
  readonly modelDeployment: {
    readonly imageUri: string;
    readonly executionRoleArn: string;
    /** Unset: a new variant copies the capacity of the endpoint's first variant. */
    readonly instanceType?: string;
    readonly instanceCount: number;
    /** Autoscaling of each variant the runtime adds; unset: none (variant-autoscaling.ts). */
    readonly scaling?: VariantScalingPolicy;
  };
  readonly modelBucket: string;
  /** The gate's holdout (JSON Lines); by default `holdout/holdout.jsonl` in the model bucket. */
  readonly holdout: S3Location;
  readonly athena: { readonly workgroup: string; readonly database: string };
  /** DELETE /users/{user_id} in this function; absent: the erasure routes answer 503. */
  readonly erasure?: ErasureConfig;
}

/** Parses and checks the environment once; never echoes a value (the Redis URL may hold a password). */
export function parseApiConfig(env: Readonly<Record<string, string | undefined>>): ApiConfig {
  const e = parseEnvironment(ApiEnvironment, env);
  return {
    ...predictConfigOf(e),
    streams: {
      ad_impressions: e.ADCLICK_IMPRESSIONS_STREAM,
      clicks: e.ADCLICK_CLICKS_STREAM,
      suspicious_events: e.ADCLICK_SUSPICIOUS_EVENTS_STREAM,
    },
    modelDeployment: modelDeploymentOf(e),
    modelBucket: e.ADCLICK_MODEL_BUCKET,
    holdout:
      e.ADCLICK_HOLDOUT_URI === undefined
        ? { bucket: e.ADCLICK_MODEL_BUCKET, key: DEFAULT_HOLDOUT_KEY }
        : parseS3Uri(e.ADCLICK_HOLDOUT_URI)!,
    athena: { workgroup: e.ADCLICK_ATHENA_WORKGROUP, database: e.ADCLICK_ATHENA_DATABASE },
    ...erasureOf(env),
  };
}

function erasureOf(env: Readonly<Record<string, string | undefined>>): Pick<ApiConfig, 'erasure'> {
  const erasure = erasureConfigOf(env);
  return erasure ? { erasure } : {};
}

/** The autoscaling variables as one policy: all set, or none; a half-set policy is a config error. */
/** How a new variant is deployed, for every function that deploys models (API, drift monitor). */
export function modelDeploymentOf(
  e: Pick<
    z.infer<typeof ApiEnvironment>,
    | 'ADCLICK_MODEL_IMAGE_URI'
    | 'ADCLICK_MODEL_EXECUTION_ROLE_ARN'
    | 'ADCLICK_MODEL_INSTANCE_TYPE'
    | 'ADCLICK_MODEL_INSTANCE_COUNT'
    | 'ADCLICK_MODEL_MIN_INSTANCES'
    | 'ADCLICK_MODEL_MAX_INSTANCES'
    | 'ADCLICK_MODEL_INVOCATIONS_PER_INSTANCE'
  >,
): ApiConfig['modelDeployment'] {
  return {
    imageUri: e.ADCLICK_MODEL_IMAGE_URI,
    executionRoleArn: e.ADCLICK_MODEL_EXECUTION_ROLE_ARN,
    ...(e.ADCLICK_MODEL_INSTANCE_TYPE === undefined ? {} : { instanceType: e.ADCLICK_MODEL_INSTANCE_TYPE }),
    instanceCount: e.ADCLICK_MODEL_INSTANCE_COUNT ?? 1,
    ...variantScalingOf(e),
  };
}

export function variantScalingOf(e: {
  readonly ADCLICK_MODEL_MIN_INSTANCES?: number | undefined;
  readonly ADCLICK_MODEL_MAX_INSTANCES?: number | undefined;
  readonly ADCLICK_MODEL_INVOCATIONS_PER_INSTANCE?: number | undefined;
}): { scaling?: VariantScalingPolicy } {
  const min = e.ADCLICK_MODEL_MIN_INSTANCES;
  const max = e.ADCLICK_MODEL_MAX_INSTANCES;
  const target = e.ADCLICK_MODEL_INVOCATIONS_PER_INSTANCE;
  if (min === undefined && max === undefined && target === undefined) return {};
  if (min === undefined || max === undefined || target === undefined) {
    const names = [
      'ADCLICK_MODEL_MIN_INSTANCES',
      'ADCLICK_MODEL_MAX_INSTANCES',
      'ADCLICK_MODEL_INVOCATIONS_PER_INSTANCE',
    ];
    const unset = names.filter((n) => e[n as keyof typeof e] === undefined);
    throw new ConfigError(unset.map((n) => `${n} is not set (autoscaling needs all three or none)`));
  }
  if (min > max) throw new ConfigError(['ADCLICK_MODEL_MIN_INSTANCES must not exceed ADCLICK_MODEL_MAX_INSTANCES']);
  return { scaling: { minInstances: min, maxInstances: max, invocationsPerInstancePerMinute: target } };
}
