import * as z from 'zod';
import type { DynamoTableNames } from '../adapters/aws/dynamodb/tables.js';
import { DEFAULT_HOLDOUT_KEY } from '../adapters/aws/s3/s3-holdout-evaluator.js';
import { parseS3Uri, type S3Location } from '../adapters/aws/s3/s3-uri.js';
import type { LakeTableName } from '../core/lake/tables.js';
import { DEFAULT_CORE_CONFIG, type ExplorationConfig } from '../core/usecases/deps.js';
import { ConfigError, parseEnvironment } from './config-error.js';

/** A resource name: table, stream, endpoint, bucket, workgroup (AWS caps each well under this). */
const name = z.string().trim().min(1, 'is empty').max(1024);

/**
 * The environment of the API function, as issue 7's CDK stack sets it. Unknown variables are
 * ignored (the Lambda runtime sets dozens); every one listed here is required unless optional.
 */
export const ApiEnvironment = z.object({
  AWS_REGION: name,
  ADCLICK_PREDICTIONS_TABLE: name,
  ADCLICK_MODELS_TABLE: name,
  ADCLICK_EXPERIMENTS_TABLE: name,
  ADCLICK_ADS_TABLE: name,
  ADCLICK_FEATURES_TABLE: name,
  ADCLICK_IMPRESSIONS_STREAM: name,
  ADCLICK_CLICKS_STREAM: name,
  ADCLICK_SUSPICIOUS_EVENTS_STREAM: name,
  ADCLICK_MODEL_ENDPOINT: name,
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
  ADCLICK_MODEL_BUCKET: name,
  /** Exploration of new ads (README "Exploration"): the share of predictions, 0 = off. */
  ADCLICK_EXPLORATION_BUDGET: z.coerce.number().min(0).max(1).optional(),
  ADCLICK_EXPLORATION_KAPPA: z.coerce.number().min(0).max(10).optional(),
  ADCLICK_EXPLORATION_MIN_EVIDENCE: z.coerce.number().int('must be a whole number').min(1).max(65_535).optional(),
  ADCLICK_ATHENA_WORKGROUP: name,
  ADCLICK_ATHENA_DATABASE: name,
  ADCLICK_REDIS_URL: z
    .string()
    .trim()
    .regex(/^rediss?:\/\/[^\s]+$/, 'must be a redis:// or rediss:// URL'),
  ADCLICK_PREDICTION_LOG_DLQ_URL: z
    .string()
    .trim()
    .regex(/^https:\/\/sqs\.[a-z0-9-]+\.amazonaws\.com(\.cn)?\/\d{12}\/[\w-]+$/, 'must be an SQS queue URL'),
  ADCLICK_HOLDOUT_URI: z
    .string()
    .trim()
    .refine((uri) => parseS3Uri(uri) !== undefined, 'must be an s3://bucket/key URI')
    .optional(),
  ADCLICK_PSEUDONYMISATION_SECRET_ARN: z
    .string()
    .trim()
    .regex(/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[^\s]+$/, 'must be a Secrets Manager secret ARN'),
});

export { ConfigError };

export interface ApiConfig {
  readonly region: string;
  readonly tables: DynamoTableNames;
  readonly streams: Readonly<Partial<Record<LakeTableName, string>>>;
  /** The SQS queue a throttled prediction log write is parked on (redriven by its own Lambda). */
  readonly predictionLogDeadLetterQueueUrl: string;
  readonly modelEndpoint: string;
  /** How a newly activated model gets its production variant (EndpointDeployment). */
  readonly modelDeployment: {
    readonly imageUri: string;
    readonly executionRoleArn: string;
    /** Unset: a new variant copies the capacity of the endpoint's first variant. */
    readonly instanceType?: string;
    readonly instanceCount: number;
  };
  readonly modelBucket: string;
  /** The local server's defaults for what is not set: off, κ 1, 100 rows. */
  readonly exploration: ExplorationConfig;
  /** The gate's holdout (JSON Lines); by default `holdout/holdout.jsonl` in the model bucket. */
  readonly holdout: S3Location;
  readonly athena: { readonly workgroup: string; readonly database: string };
  readonly redisUrl: string;
  readonly pseudonymisationSecretArn: string;
}

/** Parses and checks the environment once; never echoes a value (the Redis URL may hold a password). */
export function parseApiConfig(env: Readonly<Record<string, string | undefined>>): ApiConfig {
  const e = parseEnvironment(ApiEnvironment, env);
  return {
    region: e.AWS_REGION,
    tables: {
      predictions: e.ADCLICK_PREDICTIONS_TABLE,
      models: e.ADCLICK_MODELS_TABLE,
      experiments: e.ADCLICK_EXPERIMENTS_TABLE,
      ads: e.ADCLICK_ADS_TABLE,
      features: e.ADCLICK_FEATURES_TABLE,
    },
    streams: {
      ad_impressions: e.ADCLICK_IMPRESSIONS_STREAM,
      clicks: e.ADCLICK_CLICKS_STREAM,
      suspicious_events: e.ADCLICK_SUSPICIOUS_EVENTS_STREAM,
    },
    predictionLogDeadLetterQueueUrl: e.ADCLICK_PREDICTION_LOG_DLQ_URL,
    modelEndpoint: e.ADCLICK_MODEL_ENDPOINT,
    modelDeployment: {
      imageUri: e.ADCLICK_MODEL_IMAGE_URI,
      executionRoleArn: e.ADCLICK_MODEL_EXECUTION_ROLE_ARN,
      ...(e.ADCLICK_MODEL_INSTANCE_TYPE === undefined ? {} : { instanceType: e.ADCLICK_MODEL_INSTANCE_TYPE }),
      instanceCount: e.ADCLICK_MODEL_INSTANCE_COUNT ?? 1,
    },
    modelBucket: e.ADCLICK_MODEL_BUCKET,
    exploration: {
      budget: e.ADCLICK_EXPLORATION_BUDGET ?? DEFAULT_CORE_CONFIG.exploration.budget,
      kappa: e.ADCLICK_EXPLORATION_KAPPA ?? DEFAULT_CORE_CONFIG.exploration.kappa,
      minEvidence: e.ADCLICK_EXPLORATION_MIN_EVIDENCE ?? DEFAULT_CORE_CONFIG.exploration.minEvidence,
    },
    holdout:
      e.ADCLICK_HOLDOUT_URI === undefined
        ? { bucket: e.ADCLICK_MODEL_BUCKET, key: DEFAULT_HOLDOUT_KEY }
        : parseS3Uri(e.ADCLICK_HOLDOUT_URI)!,
    athena: { workgroup: e.ADCLICK_ATHENA_WORKGROUP, database: e.ADCLICK_ATHENA_DATABASE },
    redisUrl: e.ADCLICK_REDIS_URL,
    pseudonymisationSecretArn: e.ADCLICK_PSEUDONYMISATION_SECRET_ARN,
  };
}
