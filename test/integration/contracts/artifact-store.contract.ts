/**
 * What every ModelArtifactStore must do (lambdas/core/ports.ts), run against the local store
 * (artifacts PUT through the API) and the S3 store (artifacts PUT to a presigned URL).
 */
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { InvalidArtifactError } from '../../../lambdas/core/errors.js';
import type { ModelArtifactStore } from '../../../lambdas/core/ports.js';
import { trainArtifact } from '../../support/model-artifacts.js';

export interface ArtifactStoreUnderTest {
  readonly store: ModelArtifactStore;
  /** What the client does with the upload target: the local API PUT, or a PUT to the presigned URL. */
  upload(artifactUri: string, body: Uint8Array): Promise<void>;
}

const MAX_ARTIFACT_BYTES = 64 * 1024 * 1024;

export function describeArtifactStoreContract(adapter: string, open: () => Promise<ArtifactStoreUnderTest>): void {
  describe(`ModelArtifactStore contract: ${adapter}`, () => {
    let subject: ArtifactStoreUnderTest;
    let artifact: Buffer;
    beforeAll(async () => {
      artifact = (await trainArtifact(5)).bytes;
    });
    beforeEach(async () => {
      subject = await open();
    });

    it('gives each model its own upload target, with the 64 MB limit', async () => {
      const a = await subject.store.createUploadTarget('m_a', 'http://127.0.0.1:3000');
      const b = await subject.store.createUploadTarget('m_b', 'http://127.0.0.1:3000');

      expect(a.maxBytes).toBe(MAX_ARTIFACT_BYTES);
      expect(a.url).toMatch(/^https?:\/\//);
      expect(a.artifactUri).not.toBe(b.artifactUri);
      expect(a.url).not.toBe(b.url);
    });

    it('inspects an uploaded model: its manifest and its size', async () => {
      const target = await subject.store.createUploadTarget('m_a', 'http://127.0.0.1:3000');
      await subject.upload(target.artifactUri, artifact);

      const manifest = await subject.store.inspect(target.artifactUri);

      expect(manifest).toMatchObject({ format_version: 2, algorithm: expect.any(String), bytes: artifact.length });
    });

    it.each([
      ['a cut-short upload', (a: Buffer) => a.subarray(0, Math.floor(a.length / 2))],
      ['something that is not a tar.gz', () => Buffer.from('{"not": "a model"}')],
    ])('refuses %s with InvalidArtifactError', async (_, body) => {
      const target = await subject.store.createUploadTarget('m_a', 'http://127.0.0.1:3000');
      await subject.upload(target.artifactUri, body(artifact));

      await expect(subject.store.inspect(target.artifactUri)).rejects.toBeInstanceOf(InvalidArtifactError);
    });

    it('says no artifact was uploaded when nothing was', async () => {
      const target = await subject.store.createUploadTarget('m_a', 'http://127.0.0.1:3000');

      const outcome = subject.store.inspect(target.artifactUri);

      await expect(outcome).rejects.toBeInstanceOf(InvalidArtifactError);
      await expect(outcome).rejects.toThrow(/no artifact was uploaded/i);
    });
  });
}
