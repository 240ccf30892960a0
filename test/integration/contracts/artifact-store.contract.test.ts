/**
 * The ModelArtifactStore contract over the local store and the S3 store. S3 has no emulator here:
 * aws-sdk-client-mock holds the objects a presigned PUT would have stored and serves them to
 * GetObject in the SDK's real output shape.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, type GetObjectCommandInput, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll } from 'vitest';
import { PRESIGNING_S3_CLIENT_OPTIONS, S3ArtifactStore } from '../../../lambdas/adapters/aws/s3/s3-artifact-store.js';
import { parseS3Uri } from '../../../lambdas/adapters/aws/s3/s3-uri.js';
import { LocalArtifactStore } from '../../../lambdas/adapters/local/artifact-store.js';
import { getObjectOutput, noSuchKeyError } from '../../support/model-artifacts.js';
import { describeArtifactStoreContract } from './artifact-store.contract.js';

const MAX_ARTIFACT_BYTES = 64 * 1024 * 1024;
const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'adclick-artifact-contract-'));
  dirs.push(dir);
  return dir;
}

describeArtifactStoreContract('local (PUT through the API)', async () => {
  const store = new LocalArtifactStore(await tempDir(), () => 'http://127.0.0.1:3000', MAX_ARTIFACT_BYTES);
  return { store, upload: (uri, body) => store.receive(uri, body) };
});

const s3Mock = mockClient(S3Client);
afterAll(() => s3Mock.restore());

describeArtifactStoreContract('S3 (PUT to the presigned URL)', async () => {
  const objects = new Map<string, Uint8Array>();
  s3Mock.reset();
  s3Mock.on(GetObjectCommand).callsFake((input: GetObjectCommandInput) => {
    const body = objects.get(`${input.Bucket}/${input.Key}`);
    if (!body) throw noSuchKeyError();
    return getObjectOutput(body);
  });
  const s3 = new S3Client({
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDFAKE', secretAccessKey: 'fake' },
    ...PRESIGNING_S3_CLIENT_OPTIONS,
  });
  const store = new S3ArtifactStore(s3, { bucket: 'adclick-models-test', tmpDir: await tempDir() });
  return {
    store,
    upload: async (uri, body) => {
      const { bucket, key } = parseS3Uri(uri)!;
      objects.set(`${bucket}/${key}`, new Uint8Array(body));
    },
  };
});
