/**
 * The register step's registry mode (the pipeline's RegisterChallenger / RegisterCandidate):
 * the training job's model.tar.gz goes into the model bucket where the upload's record says, and
 * the DynamoDB registry (dynalite) holds the record `adclick retrain` would have made, named
 * challenger only when asked.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoModelRegistry } from '../../../lambdas/adapters/aws/dynamodb/model-registry.js';
import type { DynamoTableNames } from '../../../lambdas/adapters/aws/dynamodb/tables.js';
import { PRESIGNING_S3_CLIENT_OPTIONS } from '../../../lambdas/adapters/aws/s3/s3-artifact-store.js';
import { registerOnAws } from '../../../lambdas/pipeline/steps/aws-steps.js';
import { type Dynalite, startDynalite } from '../../support/dynalite.js';
import { getObjectOutput, noSuchKeyError, trainArtifact } from '../../support/model-artifacts.js';

const BUCKET = 'adclick-dev-models';
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const holdoutMetrics = (logloss: number) => ({
  rows: 5000,
  positives: 200,
  logloss,
  calibration: 1.01,
  auc: 0.7,
  segments: [],
});
const GATE = {
  passed: true,
  reasons: [],
  holdout: '5000 rows',
  candidate: holdoutMetrics(0.1),
  champion: holdoutMetrics(0.11),
};
const DATASETS = {
  train: { from: '2026-11-04T00:00:00.000Z', to: '2026-11-11T00:00:00.000Z', examples: 60000 },
  holdout: { from: '2026-11-11T00:00:00.000Z', to: '2026-11-12T18:00:00.000Z' },
  champion: { model_id: 'bootstrap' },
  warm_start: { requested: false, fresh_reason: null },
};

describe('registering a pipeline candidate straight in the registry', () => {
  let db: Dynalite;
  let tables: DynamoTableNames;
  let work: string;
  const objects = new Map<string, Uint8Array>();
  const s3Mock = mockClient(S3Client);

  beforeAll(async () => {
    db = await startDynalite();
    work = await mkdtemp(join(tmpdir(), 'adclick-register-direct-'));
    // The Train step's output as the processing input downloads it: a folder holding model.tar.gz.
    await mkdir(join(work, 'model'));
    await writeFile(join(work, 'model', 'model.tar.gz'), (await trainArtifact(5)).bytes);
    await writeFile(join(work, 'gate.json'), JSON.stringify(GATE));
    await writeFile(join(work, 'datasets.json'), JSON.stringify(DATASETS));
  }, 60_000);

  afterAll(async () => {
    s3Mock.restore();
    await db.stop();
    await rm(work, { recursive: true, force: true });
  });

  beforeEach(async () => {
    tables = await db.freshTables();
    objects.clear();
    s3Mock.reset();
    s3Mock.on(PutObjectCommand).callsFake((input) => {
      objects.set(`${input.Bucket}/${input.Key}`, input.Body as Uint8Array);
      return {};
    });
    s3Mock.on(GetObjectCommand).callsFake((input) => {
      const body = objects.get(`${input.Bucket}/${input.Key}`);
      if (!body) throw noSuchKeyError();
      return getObjectOutput(body);
    });
  });

  const register = (challenger: boolean, version: string) =>
    registerOnAws(
      {
        model: join(work, 'model'),
        gate: join(work, 'gate.json'),
        datasets: join(work, 'datasets.json'),
        challenger,
        version,
      },
      { ADCLICK_MODEL_BUCKET: BUCKET, ADCLICK_MODELS_TABLE: tables.models },
      { s3: new S3Client({ region: 'us-east-1', credentials, ...PRESIGNING_S3_CLIENT_OPTIONS }), dynamo: db.doc },
    );

  it('stores the artifact in the model bucket and names the candidate challenger with the retrain metadata', async () => {
    // Act
    const model = await register(true, 'retrain-1');

    // Assess
    const stored = await new DynamoModelRegistry(db.doc, tables.models).get(model.model_id);
    expect(stored).toMatchObject({
      status: 'challenger',
      alias: 'challenger',
      version: 'retrain-1',
      algorithm: 'fm-hashed',
    });
    expect(stored?.artifact_uri).toBe(`s3://${BUCKET}/models/${model.model_id}/artifact.tar.gz`);
    expect(objects.has(`${BUCKET}/models/${model.model_id}/artifact.tar.gz`)).toBe(true);
    expect(stored?.metadata).toMatchObject({
      source: 'retrain',
      train_from: DATASETS.train.from,
      train_rows: 60000,
      holdout_logloss: 0.1,
      champion_holdout_logloss: 0.11,
      gate_passed: true,
      warm_start: false,
      warm_start_fallback: null,
    });
  });

  it('leaves a candidate the gate refused a plain candidate, and the earlier challenger in place', async () => {
    // Prepare
    const challenger = await register(true, 'retrain-1');

    // Act
    const refused = await register(false, 'retrain-2');

    // Assess
    const registry = new DynamoModelRegistry(db.doc, tables.models);
    expect(await registry.get(refused.model_id)).toMatchObject({ status: 'candidate', alias: null });
    expect(await registry.get(challenger.model_id)).toMatchObject({ status: 'challenger' });
  });
});
