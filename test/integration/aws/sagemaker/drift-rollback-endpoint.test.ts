/**
 * A drift rollback in AWS: the scheduled drift monitor first gives the restored champion its
 * SageMaker variant (the stateful control plane of test/support, behind aws-sdk-client-mock),
 * then promotes it; the API container's routing and fallback copy follow the registry.
 */
import 'aws-sdk-client-mock-vitest/extend';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateModelCommand, SageMakerClient, UpdateEndpointCommand } from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import type { ScheduledEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { EndpointDeployment } from '../../../../lambdas/adapters/aws/sagemaker/endpoint-deployment.js';
import { FallbackModels } from '../../../../lambdas/adapters/aws/sagemaker/fallback-models.js';
import { SageMakerModelEndpoint } from '../../../../lambdas/adapters/aws/sagemaker/sagemaker-endpoint.js';
import { productionVariantName } from '../../../../lambdas/adapters/aws/sagemaker/variant-name.js';
import { variantsInUse } from '../../../../lambdas/adapters/aws/sagemaker/variants-in-use.js';
import type { GateReport } from '../../../../lambdas/core/schemas/models.js';
import { DriftMonitor } from '../../../../lambdas/core/usecases/drift.js';
import { ModelRouting } from '../../../../lambdas/core/usecases/routing.js';
import {
  createDriftMonitorHandler,
  ROLLBACK_DEPLOY_WAIT,
  withEndpointHousekeeping,
} from '../../../../lambdas/handlers/drift-monitor.js';
import { fakeTiming } from '../../../support/fake-timing.js';
import { makeDeps, modelRecord, T0 } from '../../../support/memory-ports.js';
import { type TrainedArtifact, trainArtifact } from '../../../support/model-artifacts.js';
import { fakeSageMakerControlPlane } from '../../../support/sagemaker-control-plane.js';
import { lambdaContext } from '../../../unit/handlers/api-gateway-events.js';
import { BUCKET, containerAnswer, s3Client, sagemakerClient, serveArtifacts } from './helpers.js';

const ENDPOINT = 'adclick-prod-ctr';
const HOUR = 3_600_000;
const logger = new PowertoolsLogger({ serviceName: 'adclick-drift-monitor-test', logLevel: 'SILENT' });
const OLD_VARIANT = productionVariantName('m_old');
const NEW_VARIANT = productionVariantName('m_new');
const artifactOf = (id: string) => `s3://${BUCKET}/models/${id}/artifact.tar.gz`;

const gate: GateReport = {
  passed: true,
  reasons: [],
  holdout: 'holdout',
  candidate: { rows: 50_000, positives: 1_000, logloss: 0.1, calibration: 1, auc: 0.75, segments: [] },
  champion: null,
};

const scheduled = (time: string): ScheduledEvent => ({
  version: '0',
  id: '89d1a02d-5ec7-412e-82f5-13505f849b41',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '123456789012',
  time,
  region: 'eu-west-1',
  resources: ['arn:aws:events:eu-west-1:123456789012:rule/adclick-drift-monitor'],
  detail: {},
});

/** m_new is the champion (previous m_old, whose variant a later update dropped); online calibration as given. */
function registryWorld(calibration: number) {
  const { deps, ports } = makeDeps({}, { champion: false });
  ports.models.models.set(
    'm_old',
    modelRecord({ model_id: 'm_old', version: 'v-old', status: 'retired', gate, artifact_uri: artifactOf('m_old') }),
  );
  ports.models.models.set(
    'm_new',
    modelRecord({
      model_id: 'm_new',
      version: 'v-new',
      status: 'champion',
      alias: 'champion',
      gate,
      previous_champion_id: 'm_old',
      artifact_uri: artifactOf('m_new'),
    }),
  );
  ports.clock.set(new Date(T0.getTime() + 12 * HOUR));
  const pair = {
    model_version: 'v-new',
    variant: 'champion',
    impressions: 50_000,
    clicks: 1_000,
    sum_probability: 1_000 * calibration,
    log_loss: 0.1,
    auc: 0.7,
  };
  ports.analytics.modelRows = {
    rows: [{ ...pair, bin: 5, bin_impressions: 50_000, bin_clicks: 1_000, bin_sum_probability: pair.sum_probability }],
    truncated: false,
  };
  return { deps, ports };
}

let restore: (() => void) | undefined;
afterEach(() => restore?.());

/** The drift monitor function as composeDriftMonitor builds it, over the fake control plane. */
function world(calibration: number, updatingDescribes = 1) {
  const plane = fakeSageMakerControlPlane({
    endpointName: ENDPOINT,
    initialConfig: {
      name: `${ENDPOINT}-stack`,
      variants: [
        {
          VariantName: NEW_VARIANT,
          ModelName: `${ENDPOINT}-${NEW_VARIANT}`,
          InitialInstanceCount: 2,
          InstanceType: 'ml.c6g.large',
          InitialVariantWeight: 1,
        },
      ],
    },
    initialModels: [`${ENDPOINT}-${NEW_VARIANT}`],
    updatingDescribes,
  });
  restore = plane.restore;
  const { deps, ports } = registryWorld(calibration);
  const client = new SageMakerClient({ region: 'eu-west-1' });
  const base = {
    endpointName: ENDPOINT,
    imageUri: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/adclick-serve:1.4.0',
    executionRoleArn: 'arn:aws:iam::123456789012:role/adclick-sagemaker-execution',
    inUse: variantsInUse(ports.models, ports.experiments),
    timing: fakeTiming(0.5),
  };
  const monitor = new DriftMonitor({
    ...deps,
    deployment: new EndpointDeployment(client, { ...base, wait: ROLLBACK_DEPLOY_WAIT }),
  });
  const housekeeping = new EndpointDeployment(client, { ...base, wait: { maxTotalMs: 0 } });
  const handle = createDriftMonitorHandler({
    logger,
    compose: () => withEndpointHousekeeping(monitor, housekeeping, client, ENDPOINT),
  });
  return { plane, ports, handle };
}

describe('a drift rollback in AWS', () => {
  it("deploys the restored champion's variant before promoting it", async () => {
    // Prepare
    const { plane, ports, handle } = world(1.5);
    const servedAtPromotion: string[][] = [];
    const promote = ports.models.promote.bind(ports.models);
    ports.models.promote = async (...args) => {
      servedAtPromotion.push(plane.servingVariants());
      return promote(...args);
    };

    // Act
    const result = await handle(scheduled('2026-12-04T22:00:00Z'), lambdaContext());

    // Assess
    expect(result.events).toEqual([{ kind: 'rolled_back', model_id: 'm_new', rolled_back_to: 'm_old' }]);
    expect((await ports.models.champion())?.model_id).toBe('m_old');
    expect(plane.mock).toHaveReceivedCommandWith(CreateModelCommand, {
      ModelName: `${ENDPOINT}-${OLD_VARIANT}`,
      PrimaryContainer: expect.objectContaining({ ModelDataUrl: artifactOf('m_old') }),
    });
    expect(plane.mock).toHaveReceivedCommandTimes(UpdateEndpointCommand, 1);
    expect(servedAtPromotion).toEqual([expect.arrayContaining([OLD_VARIANT, NEW_VARIANT])]);
  });

  it('changes nothing on the endpoint for a healthy champion', async () => {
    // Prepare
    const { plane, ports, handle } = world(1.0);

    // Act
    const result = await handle(scheduled('2026-12-04T22:00:00Z'), lambdaContext());

    // Assess
    expect(result.events).toEqual([]);
    expect((await ports.models.champion())?.model_id).toBe('m_new');
    expect(plane.mock).not.toHaveReceivedCommand(CreateModelCommand);
    expect(plane.mock).not.toHaveReceivedCommand(UpdateEndpointCommand);
  });

  it('completes the rollback at the next check when the endpoint update outlasts the wait', async () => {
    // Prepare: the update stays Updating longer than the monitor waits
    const { plane, ports, handle } = world(1.5, 1_000);
    const first = await handle(scheduled('2026-12-04T22:00:00Z'), lambdaContext());
    const championMeanwhile = (await ports.models.champion())?.model_id;
    plane.finishUpdate();

    // Act
    const second = await handle(scheduled('2026-12-04T22:15:00Z'), lambdaContext());

    // Assess
    expect(first).toMatchObject({ events: [], failures: 1 });
    expect(championMeanwhile).toBe('m_new');
    expect(second.events).toEqual([{ kind: 'rolled_back', model_id: 'm_new', rolled_back_to: 'm_old' }]);
    expect(plane.mock).toHaveReceivedCommandTimes(UpdateEndpointCommand, 1);
  });
});

describe('the API container after a rollback made by the drift monitor', () => {
  const runtime = mockClient(SageMakerRuntimeClient);
  const s3 = mockClient(S3Client);
  let oldArtifact: TrainedArtifact;
  let newArtifact: TrainedArtifact;
  let tmp: string;

  beforeAll(async () => {
    [oldArtifact, newArtifact] = await Promise.all([trainArtifact(1), trainArtifact(2)]);
    tmp = await mkdtemp(join(tmpdir(), 'adclick-rollback-test-'));
  });

  afterAll(async () => {
    runtime.restore();
    s3.restore();
    await rm(tmp, { recursive: true, force: true });
  });

  it("routes to the restored champion's variant within the routing cache, and loads its fallback copy", async () => {
    // Prepare: a container that routed to m_new and holds its copy
    const { ports } = registryWorld(1.5);
    serveArtifacts(s3, { m_old: oldArtifact.bytes, m_new: newArtifact.bytes });
    const scorers = { [OLD_VARIANT]: oldArtifact.scorer, [NEW_VARIANT]: newArtifact.scorer };
    runtime.on(InvokeEndpointCommand).callsFake(async (input) => containerAnswer(scorers[input.TargetVariant]!, input));
    const routing = new ModelRouting(ports.models, ports.experiments, ports.clock, 1_000);
    const fallbacks = new FallbackModels(s3Client(), { tmpDir: tmp });
    const endpoint = new SageMakerModelEndpoint(sagemakerClient(), fallbacks, {
      endpointName: ENDPOINT,
      timeoutMs: 1_000,
    });
    const rows = [{ features: { device_type: 'mobile', position: 1, ad_id: 'ad_3' } }];
    await fallbacks.load((await routing.assign('u1', undefined))!.model);

    // Act: another function rolls back; a request arrives a second later
    await ports.models.promote('m_old', ports.clock.now(), null);
    ports.clock.advance(1_001);
    const assigned = await routing.assign('u1', undefined);
    const scored = await endpoint.score(assigned!.model, rows, { explain: false });

    // Assess
    expect(assigned?.model.model_id).toBe('m_old');
    expect(runtime.commandCalls(InvokeEndpointCommand).at(-1)?.args[0].input.TargetVariant).toBe(OLD_VARIANT);
    expect(scored[0]?.probability).toBe(oldArtifact.scorer.score(rows[0]!.features).probability);
    await vi.waitFor(() => expect(fallbacks.loadedModelIds()).toContain('m_old'));
    expect(s3).toHaveReceivedCommandWith(GetObjectCommand, { Key: 'models/m_old/artifact.tar.gz' });
  });
});
