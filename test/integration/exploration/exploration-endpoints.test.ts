/**
 * Both ModelEndpoints return the scorer's uncertainty when asked (exploration needs it) and only
 * then: the SageMaker one through the container's `uncertainty` flag and through its fallback copy,
 * the local one in process.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { S3Client } from '@aws-sdk/client-s3';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FallbackModels } from '../../../lambdas/adapters/aws/sagemaker/fallback-models.js';
import { SageMakerModelEndpoint } from '../../../lambdas/adapters/aws/sagemaker/sagemaker-endpoint.js';
import { LocalArtifactStore } from '../../../lambdas/adapters/local/artifact-store.js';
import { InProcessModelEndpoint } from '../../../lambdas/adapters/local/model-endpoint.js';
import type { ScoreRow } from '../../../lambdas/core/ports.js';
import { type TrainedArtifact, trainArtifact } from '../../support/model-artifacts.js';
import {
  containerAnswer,
  InvokeEndpointCommand,
  modelRef,
  s3Client,
  sagemakerClient,
  serveArtifacts,
} from '../aws/sagemaker/helpers.js';

const sagemakerMock = mockClient(SageMakerRuntimeClient);
const s3Mock = mockClient(S3Client);
const model = modelRef('m_0192a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b', '2026-12-01.1');

/** A known ad (ad_3 is in the training data) and one the model never saw. */
const rows: ScoreRow[] = [
  { features: { device_type: 'mobile', position: 1, ad_id: 'ad_3' } },
  { features: { device_type: 'mobile', position: 1, ad_id: 'ad_never_seen' } },
];

let artifact: TrainedArtifact;
let tmp: string;

beforeAll(async () => {
  artifact = await trainArtifact(1);
  tmp = await mkdtemp(join(tmpdir(), 'adclick-explore-endpoint-'));
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

beforeEach(() => {
  sagemakerMock.reset();
  s3Mock.reset();
  serveArtifacts(s3Mock, { [model.model_id]: artifact.bytes });
});

function sagemaker(timeoutMs = 1_000) {
  const fallbacks = new FallbackModels(s3Client(), { tmpDir: tmp });
  const endpoint = new SageMakerModelEndpoint(sagemakerClient(), fallbacks, { endpointName: 'adclick-ctr', timeoutMs });
  return { endpoint, fallbacks };
}

const expected = () => rows.map((r) => artifact.scorer.score(r.features, { uncertainty: true }).uncertainty);

describe('uncertainty from the model endpoints', () => {
  it('asks the container for uncertainty when told to and passes it through', async () => {
    // Prepare
    const { endpoint } = sagemaker();
    sagemakerMock.on(InvokeEndpointCommand).callsFake((input) => containerAnswer(artifact.scorer, input));

    // Act
    const results = await endpoint.score(model, rows, { explain: false, uncertainty: true });

    // Assess
    const body = JSON.parse(String(sagemakerMock.commandCalls(InvokeEndpointCommand)[0]!.args[0].input.Body));
    expect(body.uncertainty).toBe(true);
    expect(results.map((r) => r.uncertainty)).toEqual(expected());
    expect(results[1]!.uncertainty!.evidence.ad_id).toBe(0);
    expect(results[0]!.uncertainty!.evidence.ad_id).toBeGreaterThan(0);
  });

  it('does not ask for uncertainty otherwise', async () => {
    // Prepare
    const { endpoint } = sagemaker();
    sagemakerMock.on(InvokeEndpointCommand).callsFake((input) => containerAnswer(artifact.scorer, input));

    // Act
    const results = await endpoint.score(model, rows, { explain: false });

    // Assess
    const body = JSON.parse(String(sagemakerMock.commandCalls(InvokeEndpointCommand)[0]!.args[0].input.Body));
    expect(body).not.toHaveProperty('uncertainty');
    expect(results.every((r) => r.uncertainty === undefined)).toBe(true);
  });

  it('returns the uncertainty from the fallback copy when the endpoint times out', async () => {
    // Prepare
    const { endpoint, fallbacks } = sagemaker(5);
    await fallbacks.load(model);
    sagemakerMock.on(InvokeEndpointCommand).callsFake(() => new Promise(() => {}));

    // Act
    const results = await endpoint.score(model, rows, { explain: false, uncertainty: true });

    // Assess
    expect(results.map((r) => r.fallback)).toEqual([true, true]);
    expect(results.map((r) => r.uncertainty)).toEqual(expected());
  });

  it('returns the uncertainty from the local in-process endpoint when asked', async () => {
    // Prepare
    const dir = await mkdtemp(join(tmp, 'local-'));
    const file = join(dir, 'm', 'artifact.tar.gz');
    await mkdir(join(dir, 'm'), { recursive: true });
    await writeFile(file, artifact.bytes);
    const uri = pathToFileURL(file).href;
    await new LocalArtifactStore(dir, () => 'http://127.0.0.1', 1e9).inspect(uri);
    const local = new InProcessModelEndpoint();
    const ref = { model_id: 'local', version: 'v', artifact_uri: uri };

    // Act
    const asked = await local.score(ref, rows, { explain: false, uncertainty: true });
    const notAsked = await local.score(ref, rows, { explain: false });

    // Assess
    expect(asked.map((r) => r.uncertainty)).toEqual(expected());
    expect(notAsked.every((r) => r.uncertainty === undefined)).toBe(true);
  });
});
