/**
 * The predict function's environment: what serving a prediction needs and nothing else, so its
 * module graph (the cold start an ad request waits for) names no adapter it does not use. The API
 * function's environment (config.ts) extends this one: each variable is defined once. Written with
 * zod/mini, as everything the predict function loads: zod's full build is a tenth of its cold
 * start (docs/decisions.md).
 */
import * as z from 'zod/mini';
import type { DynamoTableNames } from '../adapters/aws/dynamodb/tables.js';
import { DEFAULT_CORE_CONFIG, type ExplorationConfig } from '../core/usecases/deps.js';
import { parseEnvironment } from './config-error.js';

/** A resource name: table, stream, endpoint, bucket, workgroup (AWS caps each well under this). */
export const resourceName = z.string().check(z.trim(), z.minLength(1, 'is empty'), z.maxLength(1024));

/** A Secrets Manager secret's ARN. */
export const secretArn = z
  .string()
  .check(
    z.trim(),
    z.regex(/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[^\s]+$/, 'must be a Secrets Manager secret ARN'),
  );

/** A Redis URL (the AUTH token, if any, comes from ADCLICK_REDIS_AUTH_SECRET_ARN, not the URL). */
export const redisUrl = z
  .string()
  .check(z.trim(), z.regex(/^rediss?:\/\/[^\s]+$/, 'must be a redis:// or rediss:// URL'));

/** A number from the environment within [min, max]; whole when asked. */
export const numberIn = (min: number, max: number, whole = false) =>
  z.coerce
    .number()
    .check(...(whole ? [z.refine((n) => Number.isInteger(n), 'must be a whole number')] : []), z.gte(min), z.lte(max));

/** Unknown variables are ignored (the Lambda runtime sets dozens); each one here is required unless optional. */
export const PredictEnvironment = z.object({
  AWS_REGION: resourceName,
  ADCLICK_PREDICTIONS_TABLE: resourceName,
  ADCLICK_MODELS_TABLE: resourceName,
  ADCLICK_EXPERIMENTS_TABLE: resourceName,
  ADCLICK_ADS_TABLE: resourceName,
  ADCLICK_FEATURES_TABLE: resourceName,
  ADCLICK_MODEL_ENDPOINT: resourceName,
  /** Exploration of new ads (README "Exploration"): the share of predictions, 0 = off. */
  ADCLICK_EXPLORATION_BUDGET: z.optional(numberIn(0, 1)),
  ADCLICK_EXPLORATION_KAPPA: z.optional(numberIn(0, 10)),
  ADCLICK_EXPLORATION_MIN_EVIDENCE: z.optional(numberIn(1, 65_535, true)),
  ADCLICK_REDIS_URL: redisUrl,
  ADCLICK_PREDICTION_LOG_DLQ_URL: z
    .string()
    .check(
      z.trim(),
      z.regex(/^https:\/\/sqs\.[a-z0-9-]+\.amazonaws\.com(\.cn)?\/\d{12}\/[\w-]+$/, 'must be an SQS queue URL'),
    ),
  ADCLICK_PSEUDONYMISATION_SECRET_ARN: secretArn,
  /** The Redis AUTH token's secret (ElastiCache with AUTH); the URL then carries no password. */
  ADCLICK_REDIS_AUTH_SECRET_ARN: z.optional(secretArn),
});

export interface PredictConfig {
  readonly region: string;
  readonly tables: DynamoTableNames;
  /** The SQS queue a throttled prediction log write is parked on (redriven by its own Lambda). */
  readonly predictionLogDeadLetterQueueUrl: string;
  readonly modelEndpoint: string;
  /** The local server's defaults for what is not set: off, κ 1, 100 rows. */
  readonly exploration: ExplorationConfig;
  readonly redisUrl: string;
  /** Read once per container and sent as the Redis password (unset: the URL says all). */
  readonly redisAuthSecretArn?: string;
  readonly pseudonymisationSecretArn: string;
}

/** The predict part of an environment already checked against PredictEnvironment (or a schema extending it). */
export function predictConfigOf(e: z.infer<typeof PredictEnvironment>): PredictConfig {
  return {
    region: e.AWS_REGION,
    tables: {
      predictions: e.ADCLICK_PREDICTIONS_TABLE,
      models: e.ADCLICK_MODELS_TABLE,
      experiments: e.ADCLICK_EXPERIMENTS_TABLE,
      ads: e.ADCLICK_ADS_TABLE,
      features: e.ADCLICK_FEATURES_TABLE,
    },
    predictionLogDeadLetterQueueUrl: e.ADCLICK_PREDICTION_LOG_DLQ_URL,
    modelEndpoint: e.ADCLICK_MODEL_ENDPOINT,
    exploration: {
      budget: e.ADCLICK_EXPLORATION_BUDGET ?? DEFAULT_CORE_CONFIG.exploration.budget,
      kappa: e.ADCLICK_EXPLORATION_KAPPA ?? DEFAULT_CORE_CONFIG.exploration.kappa,
      minEvidence: e.ADCLICK_EXPLORATION_MIN_EVIDENCE ?? DEFAULT_CORE_CONFIG.exploration.minEvidence,
    },
    redisUrl: e.ADCLICK_REDIS_URL,
    ...(e.ADCLICK_REDIS_AUTH_SECRET_ARN === undefined ? {} : { redisAuthSecretArn: e.ADCLICK_REDIS_AUTH_SECRET_ARN }),
    pseudonymisationSecretArn: e.ADCLICK_PSEUDONYMISATION_SECRET_ARN,
  };
}

/** Parses and checks the environment once; never echoes a value (the Redis URL may hold a password). */
export function parsePredictConfig(env: Readonly<Record<string, string | undefined>>): PredictConfig {
  return predictConfigOf(parseEnvironment(PredictEnvironment, env));
}
