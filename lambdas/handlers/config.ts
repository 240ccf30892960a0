import { z } from 'zod';
import type { DynamoTableNames } from '../adapters/aws/dynamodb/tables.js';
import type { LakeTableName } from '../core/lake/tables.js';

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
  ADCLICK_MODEL_BUCKET: name,
  ADCLICK_ATHENA_WORKGROUP: name,
  ADCLICK_ATHENA_DATABASE: name,
  ADCLICK_REDIS_URL: z
    .string()
    .trim()
    .regex(/^rediss?:\/\/[^\s]+$/, 'must be a redis:// or rediss:// URL'),
  ADCLICK_PSEUDONYMISATION_SECRET_ARN: z
    .string()
    .trim()
    .regex(/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[^\s]+$/, 'must be a Secrets Manager secret ARN'),
});

export interface ApiConfig {
  readonly region: string;
  readonly tables: DynamoTableNames;
  readonly streams: Readonly<Partial<Record<LakeTableName, string>>>;
  readonly modelEndpoint: string;
  readonly modelBucket: string;
  readonly athena: { readonly workgroup: string; readonly database: string };
  readonly redisUrl: string;
  readonly pseudonymisationSecretArn: string;
}

/** Thrown at the first invoke of a misconfigured function: names every variable at fault. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid Lambda configuration (environment variables): ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

/** One line per variable at fault, naming it and what is wrong, never its value. */
export function describeConfigIssues(
  issues: readonly z.core.$ZodIssue[],
  env: Readonly<Record<string, string | undefined>>,
): string[] {
  return issues.map((i) => {
    const variable = String(i.path[0] ?? '(environment)');
    return env[variable] === undefined ? `${variable} is not set` : `${variable} ${i.message}`;
  });
}

/** Parses and checks the environment once; never echoes a value (the Redis URL may hold a password). */
export function parseApiConfig(env: Readonly<Record<string, string | undefined>>): ApiConfig {
  const parsed = ApiEnvironment.safeParse(env);
  if (!parsed.success) throw new ConfigError(describeConfigIssues(parsed.error.issues, env));
  const e = parsed.data;
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
    modelEndpoint: e.ADCLICK_MODEL_ENDPOINT,
    modelBucket: e.ADCLICK_MODEL_BUCKET,
    athena: { workgroup: e.ADCLICK_ATHENA_WORKGROUP, database: e.ADCLICK_ATHENA_DATABASE },
    redisUrl: e.ADCLICK_REDIS_URL,
    pseudonymisationSecretArn: e.ADCLICK_PSEUDONYMISATION_SECRET_ARN,
  };
}
