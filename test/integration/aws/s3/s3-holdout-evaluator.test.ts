import 'aws-sdk-client-mock-vitest/extend';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { GetObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { sdkStreamMixin } from '@smithy/core/serde';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { S3ObjectMissingError } from '../../../../lambdas/adapters/aws/s3/download.js';
import { S3HoldoutEvaluator } from '../../../../lambdas/adapters/aws/s3/s3-holdout-evaluator.js';
import { FallbackModels } from '../../../../lambdas/adapters/aws/sagemaker/fallback-models.js';
import type { ModelRef } from '../../../../lambdas/core/ports.js';
import {
  getObjectOutput,
  noSuchKeyError,
  type TrainedArtifact,
  trainArtifact,
} from '../../../support/model-artifacts.js';

const BUCKET = 'adclick-models-test';
const HOLDOUT_KEY = 'holdout/holdout.jsonl';
const MODEL: ModelRef = { model_id: 'm_1', version: 'v1', artifact_uri: `s3://${BUCKET}/models/m_1/artifact.tar.gz` };
const s3Mock = mockClient(S3Client);
const line = (i: number) =>
  `${JSON.stringify({ features: { device_type: 'mobile', ad_id: `ad_${i % 7}` }, label: i % 5 === 0 ? 1 : 0 })}\n`;

let artifact: TrainedArtifact;
let tmp: string;

beforeAll(async () => {
  artifact = await trainArtifact(21);
});

beforeEach(async () => {
  s3Mock.reset();
  tmp = await mkdtemp(join(tmpdir(), 'adclick-s3-holdout-'));
  return () => rm(tmp, { recursive: true, force: true });
});

afterAll(() => s3Mock.restore());

/** A holdout body that yields `lines` one line a chunk and counts how many it was asked for. */
function countingBody(lines: number) {
  const read = { chunks: 0 };
  const body = sdkStreamMixin(
    Readable.from(
      (function* () {
        for (let i = 0; i < lines; i++) {
          read.chunks++;
          yield Buffer.from(line(i));
        }
      })(),
    ),
  );
  return { read, output: { $metadata: { httpStatusCode: 200 }, ContentType: 'application/x-ndjson', Body: body } };
}

function evaluator(maxRows?: number) {
  const s3 = new S3Client({ region: 'us-east-1', credentials: { accessKeyId: 'AKIDFAKE', secretAccessKey: 'fake' } });
  return new S3HoldoutEvaluator(s3, new FallbackModels(s3, { tmpDir: tmp }), {
    location: { bucket: BUCKET, key: HOLDOUT_KEY },
    ...(maxRows === undefined ? {} : { maxRows }),
  });
}

const serveModel = () =>
  s3Mock
    .on(GetObjectCommand, { Bucket: BUCKET, Key: 'models/m_1/artifact.tar.gz' })
    .callsFake(() => getObjectOutput(artifact.bytes));

describe('S3HoldoutEvaluator', () => {
  it('answers null for a missing holdout without downloading any model', async () => {
    // Prepare
    s3Mock.on(GetObjectCommand, { Bucket: BUCKET, Key: HOLDOUT_KEY }).rejects(noSuchKeyError());
    serveModel();

    // Act
    const result = await evaluator().evaluate([MODEL]);

    // Assess
    expect(result).toBeNull();
    expect(s3Mock).toHaveReceivedCommandTimes(GetObjectCommand, 1);
    expect(s3Mock).toHaveReceivedCommandWith(GetObjectCommand, { Bucket: BUCKET, Key: HOLDOUT_KEY });
  });

  it('reports an access denied on the holdout instead of taking it for no holdout', async () => {
    // Prepare
    const denied = new S3ServiceException({
      name: 'AccessDenied',
      $fault: 'client',
      message: 'Access Denied',
      $metadata: { httpStatusCode: 403 },
    });
    s3Mock.on(GetObjectCommand, { Bucket: BUCKET, Key: HOLDOUT_KEY }).rejects(denied);

    // Act
    const outcome = evaluator().evaluate([MODEL]);

    // Assess
    await expect(outcome).rejects.toThrow('Access Denied');
  });

  it('downloads each model once per container across evaluations', async () => {
    // Prepare
    s3Mock.on(GetObjectCommand, { Bucket: BUCKET, Key: HOLDOUT_KEY }).callsFake(() => countingBody(40).output);
    serveModel();
    const subject = evaluator();

    // Act
    const first = await subject.evaluate([MODEL]);
    const second = await subject.evaluate([MODEL]);

    // Assess
    expect(second).toEqual(first);
    expect(first?.holdout).toBe(`40 rows of s3://${BUCKET}/${HOLDOUT_KEY}`);
    expect(s3Mock).toHaveReceivedCommandWith(GetObjectCommand, { Key: 'models/m_1/artifact.tar.gz' });
    const artifactGets = s3Mock
      .commandCalls(GetObjectCommand)
      .filter((c) => c.args[0].input.Key === 'models/m_1/artifact.tar.gz');
    expect(artifactGets).toHaveLength(1);
  });

  it('stops the download once it has read maxRows rows', async () => {
    // Prepare
    const body = countingBody(100_000);
    s3Mock.on(GetObjectCommand, { Bucket: BUCKET, Key: HOLDOUT_KEY }).resolves(body.output);
    serveModel();

    // Act
    const result = await evaluator(50).evaluate([MODEL]);

    // Assess
    expect(result?.holdout).toBe(`the first 50 rows of s3://${BUCKET}/${HOLDOUT_KEY}`);
    expect(result?.results[0]?.overall.rows).toBe(50);
    // Stream buffers read ahead a little; the other ~99 % of the object is never asked for.
    expect(body.read.chunks).toBeLessThan(5_000);
  });

  it('rejects when a model artifact is missing, and leaves the holdout download closed', async () => {
    // Prepare
    const body = countingBody(10);
    s3Mock.on(GetObjectCommand, { Bucket: BUCKET, Key: HOLDOUT_KEY }).resolves(body.output);
    s3Mock.on(GetObjectCommand, { Bucket: BUCKET, Key: 'models/m_1/artifact.tar.gz' }).rejects(noSuchKeyError());

    // Act
    const outcome = evaluator().evaluate([MODEL]);

    // Assess
    await expect(outcome).rejects.toBeInstanceOf(S3ObjectMissingError);
    expect((body.output.Body as unknown as Readable).destroyed).toBe(true);
  });
});
