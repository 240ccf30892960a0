import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { sdkStreamMixin } from '@smithy/core/serde';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, describe, expect, it } from 'vitest';
import { S3HoldoutEvaluator } from '../../../lambdas/adapters/aws/s3/s3-holdout-evaluator.js';
import { FallbackModels } from '../../../lambdas/adapters/aws/sagemaker/fallback-models.js';
import { unpackedDir } from '../../../lambdas/adapters/local/artifact-store.js';
import { HOLDOUT_FILE, LocalHoldoutEvaluator } from '../../../lambdas/adapters/local/holdout-evaluator.js';
import { unpackAndLoad } from '../../../lambdas/adapters/shared/model-artifact.js';
import { getObjectOutput, noSuchKeyError } from '../../support/model-artifacts.js';
import {
  contractArtifacts,
  type HoldoutFixture,
  type HoldoutSubject,
  holdoutEvaluatorContract,
  holdoutLines,
  toJsonLines,
} from './holdout-evaluator.contract.js';

const BUCKET = 'adclick-models-test';
const HOLDOUT_KEY = 'holdout/holdout.jsonl';
const s3Mock = mockClient(S3Client);
const dirs: string[] = [];

afterAll(async () => {
  s3Mock.restore();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'adclick-holdout-contract-'));
  dirs.push(dir);
  return dir;
}

/** The local layout: `<data>/holdout/holdout.jsonl` and each artifact unpacked beside its upload. */
async function localSubject(fixture: HoldoutFixture): Promise<HoldoutSubject> {
  const data = await tempDir();
  const holdoutDir = join(data, 'holdout');
  await mkdir(holdoutDir, { recursive: true });
  if (fixture.holdout !== null) await writeFile(join(holdoutDir, HOLDOUT_FILE), fixture.holdout);
  const models = await Promise.all(
    fixture.models.map(async (artifact, i) => {
      const file = join(data, 'models', `m_${i}`, 'artifact.tar.gz');
      await mkdir(join(data, 'models', `m_${i}`), { recursive: true });
      await writeFile(file, artifact.bytes);
      await unpackAndLoad(file, unpackedDir(file), artifact.bytes.byteLength);
      return { model_id: `m_${i}`, version: `v${i}`, artifact_uri: pathToFileURL(file).href };
    }),
  );
  const evaluator = new LocalHoldoutEvaluator(holdoutDir, { maxRows: fixture.maxRows });
  return { evaluator, models, source: join(holdoutDir, HOLDOUT_FILE) };
}

/**
 * A text body as the SDK gives it in Node, in small chunks so that lines straddle chunks as they
 * do on the wire.
 */
function textObject(text: string) {
  const bytes = Buffer.from(text);
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += 97) chunks.push(bytes.subarray(at, at + 97));
  return {
    $metadata: { httpStatusCode: 200 },
    ContentLength: bytes.byteLength,
    ContentType: 'application/x-ndjson',
    ETag: '"0123456789abcdef0123456789abcdef"',
    Body: sdkStreamMixin(Readable.from(chunks)),
  };
}

/** The bucket: the holdout at its key (or missing) and each artifact at `models/<id>/artifact.tar.gz`. */
async function s3Subject(fixture: HoldoutFixture): Promise<HoldoutSubject> {
  s3Mock.reset();
  const holdout = s3Mock.on(GetObjectCommand, { Bucket: BUCKET, Key: HOLDOUT_KEY });
  if (fixture.holdout === null) holdout.rejects(noSuchKeyError());
  else {
    const text = fixture.holdout;
    holdout.callsFake(() => textObject(text));
  }
  const models = fixture.models.map((artifact, i) => {
    const key = `models/m_${i}/artifact.tar.gz`;
    s3Mock.on(GetObjectCommand, { Bucket: BUCKET, Key: key }).callsFake(() => getObjectOutput(artifact.bytes));
    return { model_id: `m_${i}`, version: `v${i}`, artifact_uri: `s3://${BUCKET}/${key}` };
  });
  const s3 = new S3Client({ region: 'us-east-1', credentials: { accessKeyId: 'AKIDFAKE', secretAccessKey: 'fake' } });
  const evaluator = new S3HoldoutEvaluator(s3, new FallbackModels(s3, { tmpDir: await tempDir() }), {
    location: { bucket: BUCKET, key: HOLDOUT_KEY },
    ...(fixture.maxRows === undefined ? {} : { maxRows: fixture.maxRows }),
  });
  return { evaluator, models, source: `s3://${BUCKET}/${HOLDOUT_KEY}` };
}

holdoutEvaluatorContract('LocalHoldoutEvaluator (holdout file on disk)', localSubject);
holdoutEvaluatorContract('S3HoldoutEvaluator (holdout object in S3, mocked)', s3Subject);

describe('HoldoutEvaluator adapters side by side', () => {
  it('give identical figures for the same rows and models', async () => {
    // Prepare
    const fixture = { holdout: toJsonLines(holdoutLines(1_000, 9)), models: await contractArtifacts() };
    const local = await localSubject(fixture);
    const local1 = await local.evaluator.evaluate(local.models);
    const aws = await s3Subject(fixture);

    // Act
    const aws1 = await aws.evaluator.evaluate(aws.models);

    // Assess
    expect(aws1?.results).toEqual(local1?.results);
    expect(aws1?.holdout).toBe(`1000 rows of ${aws.source}`);
    expect(local1?.holdout).toBe(`1000 rows of ${local.source}`);
  });
});
