import 'aws-sdk-client-mock-vitest/extend';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  InvokeEndpointCommand,
  ModelNotReadyException,
  SageMakerRuntimeClient,
  SageMakerRuntimeServiceException,
  ServiceUnavailable,
} from '@aws-sdk/client-sagemaker-runtime';
import { Uint8ArrayBlobAdapter } from '@smithy/core/serde';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FallbackModels } from '../../../../lambdas/adapters/aws/sagemaker/fallback-models.js';
import {
  type FallbackReason,
  SageMakerModelEndpoint,
} from '../../../../lambdas/adapters/aws/sagemaker/sagemaker-endpoint.js';
import { productionVariantName } from '../../../../lambdas/adapters/aws/sagemaker/variant-name.js';
import { LocalArtifactStore } from '../../../../lambdas/adapters/local/artifact-store.js';
import { InProcessModelEndpoint } from '../../../../lambdas/adapters/local/model-endpoint.js';
import { DependencyUnavailableError } from '../../../../lambdas/core/errors.js';
import type { ScoreRow } from '../../../../lambdas/core/ports.js';
import { getObjectOutput, type TrainedArtifact, trainArtifact } from '../../../support/model-artifacts.js';
import { BUCKET, containerAnswer, modelRef, s3Client, sagemakerClient, serveArtifacts } from './helpers.js';

const sagemakerMock = mockClient(SageMakerRuntimeClient);
const s3Mock = mockClient(S3Client);

const champion = modelRef('m_0192a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b', '2026-12-01.1');
const challenger = modelRef('m_0192a1b2-c3d4-7e5f-8a9b-ffffffffffff', '2026-12-02.1');

/** One user, two candidate ads: the user's context is shared, the ads differ. */
const rows: ScoreRow[] = [
  { features: { device_type: 'mobile', position: 1, ad_id: 'ad_3' } },
  { features: { device_type: 'mobile', position: 1, ad_id: 'ad_14' } },
];

let first: TrainedArtifact;
let second: TrainedArtifact;
let tmp: string;

beforeAll(async () => {
  [first, second] = await Promise.all([trainArtifact(1), trainArtifact(2)]);
  tmp = await mkdtemp(join(tmpdir(), 'adclick-sagemaker-test-'));
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

beforeEach(() => {
  sagemakerMock.reset();
  s3Mock.reset();
  serveArtifacts(s3Mock, { [champion.model_id]: first.bytes, [challenger.model_id]: second.bytes });
});

function setup(options: { timeoutMs?: number } = {}) {
  const fallbacks = new FallbackModels(s3Client(), { tmpDir: tmp });
  const reasons: FallbackReason[] = [];
  const endpoint = new SageMakerModelEndpoint(sagemakerClient(), fallbacks, {
    endpointName: 'adclick-ctr',
    timeoutMs: options.timeoutMs ?? 1_000,
    onFallback: (reason) => reasons.push(reason),
  });
  return { endpoint, fallbacks, reasons };
}

/** What the local server's in-process endpoint answers for the same model. */
async function localScores(artifact: TrainedArtifact, explain: boolean) {
  const dir = await mkdtemp(join(tmp, 'local-'));
  const file = join(dir, 'm', 'artifact.tar.gz');
  await mkdir(join(dir, 'm'), { recursive: true });
  await writeFile(file, artifact.bytes);
  const uri = pathToFileURL(file).href;
  await new LocalArtifactStore(dir, () => 'http://127.0.0.1', 1e9).inspect(uri);
  return new InProcessModelEndpoint().score({ model_id: 'local', version: 'v', artifact_uri: uri }, rows, {
    explain,
  });
}

const throttling = () =>
  new SageMakerRuntimeServiceException({
    name: 'ThrottlingException',
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
    message: 'Rate exceeded',
  });

describe('SageMakerModelEndpoint', () => {
  it("invokes the endpoint in the container's batch format, on the chosen model's production variant", async () => {
    // Prepare
    const { endpoint } = setup();
    sagemakerMock.on(InvokeEndpointCommand).callsFake((input) => containerAnswer(first.scorer, input));

    // Act
    const results = await endpoint.score(champion, rows, { explain: false });

    // Assess
    expect(sagemakerMock).toHaveReceivedCommandTimes(InvokeEndpointCommand, 1);
    expect(sagemakerMock).toHaveReceivedCommandWith(InvokeEndpointCommand, {
      EndpointName: 'adclick-ctr',
      TargetVariant: 'm-0192a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
      ContentType: 'application/json',
      Accept: 'application/json',
    });
    const body = JSON.parse(String(sagemakerMock.commandCalls(InvokeEndpointCommand)[0]!.args[0].input.Body));
    expect(body).toEqual({
      instances: [{ features: { ad_id: 'ad_3' } }, { features: { ad_id: 'ad_14' } }],
      shared: { device_type: 'mobile', position: 1 },
    });
    const expected = rows.map((r) => first.scorer.score(r.features).probability);
    expect(results.map((r) => r.probability)).toEqual(expected.map((p) => expect.closeTo(p, 12)));
    expect(results.every((r) => r.fallback === undefined)).toBe(true);
  });

  it('sends each model to its own production variant, so the routing keeps its sticky split', async () => {
    // Prepare
    const { endpoint } = setup();
    sagemakerMock.on(InvokeEndpointCommand).callsFake((input) => containerAnswer(second.scorer, input));

    // Act
    await endpoint.score(challenger, rows, { explain: false });

    // Assess
    expect(sagemakerMock).toHaveReceivedCommandWith(InvokeEndpointCommand, {
      TargetVariant: productionVariantName(challenger.model_id),
    });
    expect(productionVariantName(challenger.model_id)).not.toBe(productionVariantName(champion.model_id));
  });

  it("passes the endpoint's explanations through", async () => {
    // Prepare
    const { endpoint } = setup();
    sagemakerMock.on(InvokeEndpointCommand).callsFake((input) => containerAnswer(first.scorer, input));

    // Act
    const results = await endpoint.score(champion, rows, { explain: true });

    // Assess
    const body = JSON.parse(String(sagemakerMock.commandCalls(InvokeEndpointCommand)[0]!.args[0].input.Body));
    expect(body.explain).toBe(true);
    const expected = first.scorer.score(rows[0]!.features, { explain: true }).explanation!;
    expect(results[0]!.explanation).toEqual(expected);
    expect(Object.keys(results[0]!.explanation!.contributions).length).toBeGreaterThan(0);
  });

  it('answers from the fallback copy when the endpoint times out, with the probabilities of the local scorer', async () => {
    // Prepare
    const { endpoint, fallbacks, reasons } = setup({ timeoutMs: 5 });
    await fallbacks.load(champion);
    sagemakerMock.on(InvokeEndpointCommand).callsFake(() => new Promise(() => {}));

    // Act
    const results = await endpoint.score(champion, rows, { explain: true });

    // Assess
    const local = await localScores(first, true);
    expect(results).toEqual(local.map((r) => ({ ...r, fallback: true })));
    expect(reasons).toEqual(['timeout']);
  });

  it.each([
    ['throttling', throttling, 'throttled'],
    [
      'a model not ready',
      () => new ModelNotReadyException({ message: 'Model is not ready', $metadata: { httpStatusCode: 429 } }),
      'not-ready',
    ],
    [
      'a 5xx',
      () => new ServiceUnavailable({ message: 'Service is unavailable', $metadata: { httpStatusCode: 503 } }),
      'unavailable',
    ],
  ] as const)('falls back on %s', async (_name, error, reason) => {
    // Prepare
    const { endpoint, fallbacks, reasons } = setup();
    await fallbacks.load(champion);
    sagemakerMock.on(InvokeEndpointCommand).rejects(error());

    // Act
    const results = await endpoint.score(champion, rows, { explain: false });

    // Assess
    expect(results.map((r) => r.fallback)).toEqual([true, true]);
    expect(results.map((r) => r.probability)).toEqual(rows.map((r) => first.scorer.score(r.features).probability));
    expect(reasons).toEqual([reason]);
  });

  it('falls back when the endpoint answers with fewer predictions than rows', async () => {
    // Prepare
    const { endpoint, fallbacks, reasons } = setup();
    await fallbacks.load(champion);
    sagemakerMock.on(InvokeEndpointCommand).resolves({
      $metadata: { httpStatusCode: 200 },
      Body: Uint8ArrayBlobAdapter.fromString(JSON.stringify({ model: {}, predictions: [{ probability: 0.5 }] })),
      ContentType: 'application/json',
    });

    // Act
    const results = await endpoint.score(champion, rows, { explain: false });

    // Assess
    expect(results.map((r) => r.fallback)).toEqual([true, true]);
    expect(reasons).toEqual(['model-error']);
  });

  it('rejects with DependencyUnavailableError when the endpoint fails and no fallback copy is loaded', async () => {
    // Prepare
    const { endpoint } = setup();
    s3Mock.reset();
    s3Mock.on(GetObjectCommand).rejects(new Error('connect ECONNREFUSED'));
    sagemakerMock.on(InvokeEndpointCommand).rejects(throttling());

    // Act
    const outcome = endpoint.score(champion, rows, { explain: false });

    // Assess
    await expect(outcome).rejects.toBeInstanceOf(DependencyUnavailableError);
    await expect(outcome).rejects.toMatchObject({ kind: 'unavailable' });
  });

  it('loads the copy of a newly active model when its first request arrives, and falls back to it', async () => {
    // Prepare: the champion's copy was loaded at cold start, then the challenger became active
    const { endpoint, fallbacks } = setup();
    await fallbacks.load(champion);
    sagemakerMock.on(InvokeEndpointCommand).rejects(throttling());

    // Act
    const beforeLoad = endpoint.score(challenger, rows, { explain: false });
    await expect(beforeLoad).rejects.toBeInstanceOf(DependencyUnavailableError);
    await fallbacks.load(challenger);
    const afterLoad = await endpoint.score(challenger, rows, { explain: false });

    // Assess
    expect(s3Mock).toHaveReceivedCommandWith(GetObjectCommand, {
      Bucket: BUCKET,
      Key: `models/${challenger.model_id}/artifact.tar.gz`,
    });
    expect(afterLoad.map((r) => r.probability)).toEqual(rows.map((r) => second.scorer.score(r.features).probability));
    expect(afterLoad.map((r) => r.probability)).not.toEqual(
      rows.map((r) => first.scorer.score(r.features).probability),
    );
  });
});

describe('FallbackModels', () => {
  it('downloads a model once however many requests ask for it', async () => {
    // Prepare
    const fallbacks = new FallbackModels(s3Client(), { tmpDir: tmp });

    // Act
    fallbacks.ready(champion);
    fallbacks.ready(champion);
    await Promise.all([fallbacks.load(champion), fallbacks.load(champion)]);
    const scorer = fallbacks.ready(champion);

    // Assess
    expect(s3Mock).toHaveReceivedCommandTimes(GetObjectCommand, 1);
    expect(scorer?.score(rows[0]!.features).probability).toBe(first.scorer.score(rows[0]!.features).probability);
  });

  it('retries a failed load only once its backoff has passed', async () => {
    // Prepare
    let now = 0;
    const fallbacks = new FallbackModels(s3Client(), {
      tmpDir: tmp,
      retry: { baseDelayMs: 1_000, maxDelayMs: 1_000 },
      timing: { now: () => now, random: () => 0.5 },
    });
    s3Mock.reset();
    s3Mock
      .on(GetObjectCommand)
      .rejectsOnce(new Error('socket hang up'))
      .callsFake(() => getObjectOutput(first.bytes));
    await expect(fallbacks.load(champion)).rejects.toThrow('socket hang up');

    // Act
    now = 499;
    const tooSoon = fallbacks.ready(champion);
    const callsTooSoon = s3Mock.commandCalls(GetObjectCommand).length;
    now = 500;
    fallbacks.ready(champion);
    await fallbacks.load(champion);

    // Assess
    expect(tooSoon).toBeUndefined();
    expect(callsTooSoon).toBe(1);
    expect(s3Mock).toHaveReceivedCommandTimes(GetObjectCommand, 2);
    expect(fallbacks.ready(champion)).toBeDefined();
  });

  it('keeps at most maxModels copies, dropping the least recently used', async () => {
    // Prepare
    const third = modelRef('m_third', 'v3');
    serveArtifacts(s3Mock, { [third.model_id]: first.bytes });
    const fallbacks = new FallbackModels(s3Client(), { tmpDir: tmp, maxModels: 2 });
    await fallbacks.load(champion);
    await fallbacks.load(challenger);
    fallbacks.ready(champion);

    // Act
    await fallbacks.load(third);

    // Assess
    expect(fallbacks.loadedModelIds()).toEqual([champion.model_id, third.model_id]);
  });
});

describe('productionVariantName', () => {
  it('spells a model id as a SageMaker variant name', () => {
    expect(productionVariantName('m_0192a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b')).toBe(
      'm-0192a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
    );
  });

  it('hashes an id too long for a variant name into a valid, stable one', () => {
    const id = `m_${'x'.repeat(80)}`;
    expect(productionVariantName(id)).toMatch(/^m-[0-9a-f]{32}$/);
    expect(productionVariantName(id)).toBe(productionVariantName(id));
  });
});
