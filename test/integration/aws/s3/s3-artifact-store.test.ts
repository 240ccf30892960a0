import 'aws-sdk-client-mock-vitest/extend';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  PRESIGNING_S3_CLIENT_OPTIONS,
  S3ArtifactStore,
} from '../../../../lambdas/adapters/aws/s3/s3-artifact-store.js';
import { InvalidArtifactError } from '../../../../lambdas/core/errors.js';
import { getObjectOutput, noSuchKeyError, trainArtifact } from '../../../support/model-artifacts.js';

const BUCKET = 'adclick-models-test';
const URI = `s3://${BUCKET}/models/m_1/artifact.tar.gz`;
const credentials = { accessKeyId: 'AKIDFAKE', secretAccessKey: 'fake' };
const s3Mock = mockClient(S3Client);

let artifact: Buffer;
let tmp: string;

beforeAll(async () => {
  artifact = (await trainArtifact(3)).bytes;
});

beforeEach(async () => {
  s3Mock.reset();
  tmp = await mkdtemp(join(tmpdir(), 'adclick-s3-test-'));
  return () => rm(tmp, { recursive: true, force: true });
});

afterAll(() => s3Mock.restore());

function store(options: { maxBytes?: number } = {}) {
  const s3 = new S3Client({ region: 'us-east-1', credentials, ...PRESIGNING_S3_CLIENT_OPTIONS });
  return new S3ArtifactStore(s3, { bucket: BUCKET, tmpDir: tmp, ...options });
}

function serve(bytes: Uint8Array) {
  s3Mock
    .on(GetObjectCommand, { Bucket: BUCKET, Key: 'models/m_1/artifact.tar.gz' })
    .callsFake(() => getObjectOutput(bytes));
}

describe('S3ArtifactStore.createUploadTarget', () => {
  it("presigns a PUT of the model's key in the bucket for 15 minutes, stating the 64 MB limit", async () => {
    // Act
    const target = await store().createUploadTarget('m_1');

    // Assess
    const url = new URL(target.url);
    expect(url.host).toBe(`${BUCKET}.s3.us-east-1.amazonaws.com`);
    expect(url.pathname).toBe('/models/m_1/artifact.tar.gz');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('900');
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('host');
    expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    expect(target.maxBytes).toBe(64 * 1024 * 1024);
    expect(target.artifactUri).toBe(URI);
  });

  it('carries no checksum of an empty body, which would make S3 refuse the upload', async () => {
    // Act
    const target = await store().createUploadTarget('m_1');

    // Assess
    expect([...new URL(target.url).searchParams.keys()].filter((k) => k.startsWith('x-amz-checksum'))).toEqual([]);
  });

  it('refuses an S3 client that would sign a checksum into the URL', async () => {
    // Prepare
    const s3 = new S3Client({ region: 'us-east-1', credentials });
    const misconfigured = new S3ArtifactStore(s3, { bucket: BUCKET });

    // Act
    const outcome = misconfigured.createUploadTarget('m_1');

    // Assess
    await expect(outcome).rejects.toThrow(/requestChecksumCalculation/);
  });
});

describe('S3ArtifactStore.inspect', () => {
  it('downloads the artifact and returns its manifest, leaving nothing in the temp dir', async () => {
    // Prepare
    serve(artifact);

    // Act
    const manifest = await store().inspect(URI);

    // Assess
    expect(manifest).toMatchObject({ algorithm: expect.any(String), format_version: 2, bytes: artifact.length });
    expect(s3Mock).toHaveReceivedCommandWith(GetObjectCommand, { Bucket: BUCKET, Key: 'models/m_1/artifact.tar.gz' });
    expect(await readdir(tmp)).toEqual([]);
  });

  it('refuses a corrupt artifact with InvalidArtifactError saying why', async () => {
    // Prepare: the upload was cut short
    serve(artifact.subarray(0, Math.floor(artifact.length / 2)));

    // Act
    const outcome = store().inspect(URI);

    // Assess
    await expect(outcome).rejects.toBeInstanceOf(InvalidArtifactError);
    await expect(outcome).rejects.toThrow(/not a valid model: artifact refused: corrupt gzip data/);
    expect(await readdir(tmp)).toEqual([]);
  });

  it('refuses something that is not a tar.gz', async () => {
    // Prepare
    serve(Buffer.from('{"not": "a model"}'));

    // Act
    const outcome = store().inspect(URI);

    // Assess
    await expect(outcome).rejects.toThrow(/not a gzip archive/);
  });

  it('says no artifact was uploaded when the key does not exist', async () => {
    // Prepare
    s3Mock.on(GetObjectCommand).rejects(noSuchKeyError());

    // Act
    const outcome = store().inspect(URI);

    // Assess
    await expect(outcome).rejects.toBeInstanceOf(InvalidArtifactError);
    await expect(outcome).rejects.toThrow(/No artifact was uploaded/);
  });

  it('refuses an object over the size limit without reading it', async () => {
    // Prepare
    serve(artifact);

    // Act
    const outcome = store({ maxBytes: artifact.length - 1 }).inspect(URI);

    // Assess
    await expect(outcome).rejects.toBeInstanceOf(InvalidArtifactError);
    await expect(outcome).rejects.toThrow(/larger than the limit/);
  });

  it('stops reading at the size limit when the object states no length', async () => {
    // Prepare
    s3Mock.on(GetObjectCommand).callsFake(() => ({ ...getObjectOutput(artifact), ContentLength: undefined }));

    // Act
    const outcome = store({ maxBytes: 100 }).inspect(URI);

    // Assess
    await expect(outcome).rejects.toThrow(/larger than the limit of 100 bytes/);
    expect(await readdir(tmp)).toEqual([]);
  });

  it('refuses a URI outside its bucket', async () => {
    // Act
    const outcome = store().inspect('s3://someone-elses-bucket/models/m_1/artifact.tar.gz');

    // Assess
    await expect(outcome).rejects.toBeInstanceOf(InvalidArtifactError);
    expect(s3Mock).not.toHaveReceivedCommand(GetObjectCommand);
  });
});
