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
import type { ErasureConfig } from './erasure-config.js';

export { type ErasureConfig, erasureConfigOf } from './erasure-config.js';

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
