import * as z from 'zod';
import { DEFAULT_FEATURE_KEY_PREFIX } from '../adapters/aws/redis/redis-feature-store.js';
import { parseEnvironment } from './config-error.js';
import { redisUrl, resourceName, secretArn } from './predict-config.js';

const name = resourceName;

/** The environment of the feature-counter consumer, as the CDK stack sets it. */
export const FeatureCountersEnvironment = z.object({
  AWS_REGION: name,
  ADCLICK_FEATURES_TABLE: name,
  ADCLICK_REDIS_URL: redisUrl,
  /** The Redis AUTH token's secret (ElastiCache with AUTH); the URL then carries no password. */
  ADCLICK_REDIS_AUTH_SECRET_ARN: z.optional(secretArn),
  /** Must equal the API's (RedisFeatureStore's keyPrefix), or the API never sees the fresh counters. */
  ADCLICK_REDIS_KEY_PREFIX: z
    .string()
    .max(64)
    .regex(/^[\x21-\x7e]*$/, 'must be printable ASCII without spaces')
    .optional(),
});

export interface FeatureCountersConfig {
  readonly region: string;
  readonly featuresTable: string;
  readonly redisUrl: string;
  readonly redisAuthSecretArn?: string;
  readonly redisKeyPrefix: string;
}

/** Parses and checks the environment once; never echoes a value (the Redis URL may hold a password). */
export function parseFeatureCountersConfig(env: Readonly<Record<string, string | undefined>>): FeatureCountersConfig {
  const e = parseEnvironment(FeatureCountersEnvironment, env);
  return {
    region: e.AWS_REGION,
    featuresTable: e.ADCLICK_FEATURES_TABLE,
    redisUrl: e.ADCLICK_REDIS_URL,
    ...(e.ADCLICK_REDIS_AUTH_SECRET_ARN === undefined ? {} : { redisAuthSecretArn: e.ADCLICK_REDIS_AUTH_SECRET_ARN }),
    redisKeyPrefix: e.ADCLICK_REDIS_KEY_PREFIX ?? DEFAULT_FEATURE_KEY_PREFIX,
  };
}
