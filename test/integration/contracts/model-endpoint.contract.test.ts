/**
 * The ModelEndpoint contract over the local in-process endpoint (artifacts on disk) and the
 * SageMaker endpoint adapter, whose InvokeEndpoint is answered by the SageMaker container's own
 * `invoke` (aws-sdk-client-mock: SageMaker Runtime has no emulator) and whose S3 serves the
 * artifacts.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { S3Client } from '@aws-sdk/client-s3';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll } from 'vitest';
import { FallbackModels } from '../../../lambdas/adapters/aws/sagemaker/fallback-models.js';
import { SageMakerModelEndpoint } from '../../../lambdas/adapters/aws/sagemaker/sagemaker-endpoint.js';
import { productionVariantName } from '../../../lambdas/adapters/aws/sagemaker/variant-name.js';
import { LocalArtifactStore } from '../../../lambdas/adapters/local/artifact-store.js';
import { InProcessModelEndpoint } from '../../../lambdas/adapters/local/model-endpoint.js';
import type { ModelRef } from '../../../lambdas/core/ports.js';
import { containerAnswer, modelRef, s3Client, sagemakerClient, serveArtifacts } from '../aws/sagemaker/helpers.js';
import { describeModelEndpointContract } from './model-endpoint.contract.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
});

describeModelEndpointContract('local in-process', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'adclick-endpoint-contract-'));
  dirs.push(dir);
  const store = new LocalArtifactStore(dir, () => 'http://127.0.0.1', 1e9);
  return {
    endpoint: new InProcessModelEndpoint(),
    refs: (artifacts) =>
      Promise.all(
        artifacts.map(async (artifact, i) => {
          const file = join(dir, `m_${i}`, 'artifact.tar.gz');
          await mkdir(join(dir, `m_${i}`), { recursive: true });
          await writeFile(file, artifact.bytes);
          const uri = pathToFileURL(file).href;
          await store.inspect(uri);
          return { model_id: `m_${i}`, version: `v${i}`, artifact_uri: uri };
        }),
      ),
  };
});

describeModelEndpointContract('SageMaker (container code behind a mocked InvokeEndpoint)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'adclick-endpoint-contract-'));
  dirs.push(dir);
  const sagemaker = mockClient(SageMakerRuntimeClient);
  const s3 = mockClient(S3Client);
  const fallbacks = new FallbackModels(s3Client(), { tmpDir: dir });
  const served: ModelRef[] = [];
  afterAll(async () => {
    // Scoring starts the fallback copies' loads in the background: let them finish before the
    // directory they unpack into is removed.
    await Promise.allSettled(served.map((ref) => fallbacks.load(ref)));
    sagemaker.restore();
    s3.restore();
  });
  return {
    endpoint: new SageMakerModelEndpoint(sagemakerClient(), fallbacks, {
      endpointName: 'adclick-ctr',
      timeoutMs: 5_000,
    }),
    refs: async (artifacts) => {
      const refs = artifacts.map((_, i) => modelRef(`m_0192a1b2-c3d4-7e5f-8a9b-00000000000${i}`, `v${i}`));
      served.push(...refs);
      serveArtifacts(s3, Object.fromEntries(refs.map((r, i) => [r.model_id, artifacts[i]!.bytes])));
      // Each production variant is one model: the container behind it answers with that model.
      refs.forEach((ref, i) => {
        sagemaker
          .on(InvokeEndpointCommand, { TargetVariant: productionVariantName(ref.model_id) })
          .callsFake((input) => containerAnswer(artifacts[i]!.scorer, input));
      });
      return refs;
    },
  };
});
