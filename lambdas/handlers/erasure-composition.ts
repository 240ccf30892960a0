/**
 * User erasure in AWS (DELETE /users/{user_id}): the receipts in the erasures table and the
 * erasers of the AWS stores, in order (prediction log, feature store, lake). Configured by its
 * own environment variables, so a function without them answers the erasure routes with 503.
 *
 * The API function records an erasure and answers 202 (`schedule` does nothing there); the
 * erasure worker (erasure-worker.ts, on a schedule) runs every unfinished one.
 */
import type { AthenaClient } from '@aws-sdk/client-athena';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Redis } from 'ioredis';
import { AthenaQueryRunner } from '../adapters/aws/athena/athena-query-runner.js';
import { AwsFeatureStoreEraser, DynamoPredictionLogEraser } from '../adapters/aws/erasure/aws-erasers.js';
import { DynamoErasureStore } from '../adapters/aws/erasure/dynamo-erasure-store.js';
import { GlueLakeEraser } from '../adapters/aws/erasure/glue-lake-eraser.js';
import { lazyClient } from '../adapters/aws/lazy-client.js';
import type { Logger } from '../core/ports.js';
import type { ErasureDeps } from '../core/usecases/deps.js';

export interface ErasureConfig {
  readonly erasuresTable: string;
  readonly rewriteJob: string;
  readonly lakeBucket: string;
  readonly lakePrefix: string;
  /** How long the lake's rewrite waits after the request: the delivery streams' buffer and a margin. */
  readonly lakeDelayMs: number;
}

/** The erasure settings from the environment, or undefined when the function has none. */
export function erasureConfigOf(env: Readonly<Record<string, string | undefined>>): ErasureConfig | undefined {
  const table = env.ADCLICK_ERASURES_TABLE?.trim();
  if (!table) return undefined;
  const required = (name: string): string => {
    const value = env[name]?.trim();
    if (!value) throw new Error(`${name} is required with ADCLICK_ERASURES_TABLE`);
    return value;
  };
  return {
    erasuresTable: table,
    rewriteJob: required('ADCLICK_ERASURE_JOB'),
    lakeBucket: required('ADCLICK_LAKE_BUCKET'),
    lakePrefix: env.ADCLICK_LAKE_PREFIX?.trim() || 'lake',
    lakeDelayMs: delaySeconds(env.ADCLICK_ERASURE_LAKE_DELAY_SECONDS) * 1000,
  };
}

/** Firehose's largest buffer interval (900 s) and a minute: the default wait before the lake's rewrite. */
export const DEFAULT_LAKE_DELAY_SECONDS = 960;

function delaySeconds(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === '') return DEFAULT_LAKE_DELAY_SECONDS;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 86_400) {
    throw new Error('ADCLICK_ERASURE_LAKE_DELAY_SECONDS must be a whole number of seconds from 0 to 86400');
  }
  return n;
}

export interface AwsErasureInputs {
  readonly config: ErasureConfig;
  readonly region: string;
  readonly dynamo: DynamoDBDocumentClient;
  readonly redis: Pick<Redis, 'del'>;
  readonly athena: AthenaClient;
  readonly athenaQuery: { readonly workgroup: string; readonly database: string };
  readonly tables: { readonly predictions: string; readonly features: string };
  readonly logger: Logger;
  /** How an accepted erasure runs: nothing in the API function (the worker runs it). */
  readonly schedule?: ErasureDeps['schedule'];
}

export function awsErasureDeps(inputs: AwsErasureInputs): ErasureDeps {
  const { config, dynamo } = inputs;
  // Only erasures start Glue jobs: its package is loaded at the first one, not at every cold start.
  const glue = lazyClient(async () => {
    const { GlueClient } = await import('@aws-sdk/client-glue');
    return new GlueClient({ region: inputs.region });
  });
  // An erasure's partition query scans the lake's user_id columns: longer than an analytics budget.
  const athena = new AthenaQueryRunner(inputs.athena, {
    ...inputs.athenaQuery,
    poll: { baseDelayMs: 500, maxDelayMs: 5_000, maxTotalMs: 600_000 },
    logger: inputs.logger,
  });
  return {
    store: new DynamoErasureStore(dynamo, config.erasuresTable),
    erasers: [
      new DynamoPredictionLogEraser(dynamo, inputs.tables.predictions),
      new AwsFeatureStoreEraser(inputs.redis, dynamo, { featuresTable: inputs.tables.features }),
      new GlueLakeEraser(athena, glue, {
        jobName: config.rewriteJob,
        bucket: config.lakeBucket,
        lakePrefix: config.lakePrefix,
        deliveryDelayMs: config.lakeDelayMs,
      }),
    ],
    schedule: inputs.schedule ?? (() => {}),
  };
}
