import 'aws-sdk-client-mock-vitest/extend';
import {
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DescribeEndpointCommand,
  type DescribeEndpointCommandOutput,
  DescribeEndpointConfigCommand,
  type DescribeEndpointConfigCommandOutput,
  type ProductionVariant,
  SageMakerClient,
  SageMakerServiceException,
  UpdateEndpointCommand,
} from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  EndpointDeployment,
  type EndpointDeploymentConfig,
} from '../../../../lambdas/adapters/aws/sagemaker/endpoint-deployment.js';
import { productionVariantName } from '../../../../lambdas/adapters/aws/sagemaker/variant-name.js';
import { ConflictError, DependencyUnavailableError } from '../../../../lambdas/core/errors.js';
import type { ModelRef } from '../../../../lambdas/core/ports.js';
import { modelRef } from './helpers.js';

const sagemaker = mockClient(SageMakerClient);

const ENDPOINT = 'adclick-prod-ctr';
const ARN = `arn:aws:sagemaker:eu-west-1:123456789012:endpoint/${ENDPOINT}`;
const IMAGE = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/adclick-serve:1.4.0';
const ROLE = 'arn:aws:iam::123456789012:role/adclick-sagemaker-execution';
const champion = modelRef('m_0192a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b', '2026-12-01.1');
const candidate = modelRef('m_0192a1b2-c3d4-7e5f-8a9b-ffffffffffff', '2026-12-02.1');
const CHAMPION_VARIANT = productionVariantName(champion.model_id);
const CANDIDATE_VARIANT = productionVariantName(candidate.model_id);

/** DescribeEndpoint as SageMaker answers it, with one summary per variant name. */
function endpoint(
  status: DescribeEndpointCommandOutput['EndpointStatus'],
  variants: readonly string[],
  extra: Partial<DescribeEndpointCommandOutput> = {},
): DescribeEndpointCommandOutput {
  return {
    $metadata: { httpStatusCode: 200, requestId: '5f1c2a3b-0000-4000-8000-000000000001' },
    EndpointName: ENDPOINT,
    EndpointArn: ARN,
    EndpointConfigName: `${ENDPOINT}-config-1`,
    ProductionVariants: variants.map((name) => ({
      VariantName: name,
      DeployedImages: [
        {
          SpecifiedImage: IMAGE,
          ResolvedImage: `${IMAGE.split(':')[0]}@sha256:${'a'.repeat(64)}`,
          ResolutionTime: new Date('2026-12-01T09:00:00Z'),
        },
      ],
      CurrentWeight: 1,
      DesiredWeight: 1,
      CurrentInstanceCount: 2,
      DesiredInstanceCount: 2,
    })),
    EndpointStatus: status,
    CreationTime: new Date('2026-11-01T09:00:00Z'),
    LastModifiedTime: new Date('2026-12-01T09:00:00Z'),
    ...extra,
  };
}

function endpointConfig(variants: ProductionVariant[]): DescribeEndpointConfigCommandOutput {
  return {
    $metadata: { httpStatusCode: 200, requestId: '5f1c2a3b-0000-4000-8000-000000000002' },
    EndpointConfigName: `${ENDPOINT}-config-1`,
    EndpointConfigArn: `arn:aws:sagemaker:eu-west-1:123456789012:endpoint-config/${ENDPOINT}-config-1`,
    ProductionVariants: variants,
    DataCaptureConfig: {
      EnableCapture: false,
      InitialSamplingPercentage: 10,
      DestinationS3Uri: 's3://adclick-capture/ctr',
      CaptureOptions: [{ CaptureMode: 'Input' }],
    },
    CreationTime: new Date('2026-12-01T08:55:00Z'),
  };
}

const championVariant: ProductionVariant = {
  VariantName: CHAMPION_VARIANT,
  ModelName: `${ENDPOINT}-${CHAMPION_VARIANT}`,
  InitialInstanceCount: 2,
  InstanceType: 'ml.c6g.large',
  InitialVariantWeight: 1,
};

/** A virtual clock: sleeping advances it, so the wait budget is spent without real time. */
function virtualTiming() {
  let now = 1_800_000_000_000;
  const sleeps: number[] = [];
  return {
    sleeps,
    timing: {
      now: () => now,
      sleep: async (ms: number) => {
        sleeps.push(ms);
        now += ms;
      },
      random: () => 0.5,
    },
  };
}

function deployment(extra: Partial<EndpointDeploymentConfig> = {}) {
  const loads: ModelRef[] = [];
  const { timing, sleeps } = virtualTiming();
  const subject = new EndpointDeployment(new SageMakerClient({ region: 'eu-west-1' }), {
    endpointName: ENDPOINT,
    imageUri: IMAGE,
    executionRoleArn: ROLE,
    fallbacks: {
      load: async (m) => {
        loads.push(m);
      },
    },
    timing,
    ...extra,
  });
  return { subject, loads, sleeps };
}

function validation(message: string) {
  return new SageMakerServiceException({
    name: 'ValidationException',
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
    message,
  });
}

/** The endpoint without the candidate's variant, then with it once the update is done. */
function addedOnce(): void {
  sagemaker
    .on(DescribeEndpointCommand)
    .resolvesOnce(endpoint('InService', [CHAMPION_VARIANT]))
    .resolves(endpoint('InService', [CHAMPION_VARIANT, CANDIDATE_VARIANT]));
}

beforeEach(() => {
  sagemaker.reset();
});

describe('EndpointDeployment.prepare', () => {
  it('changes nothing when the endpoint already has the model variant, and warms the fallback copy', async () => {
    // Prepare
    sagemaker.on(DescribeEndpointCommand).resolves(endpoint('InService', [CHAMPION_VARIANT]));
    const { subject, loads } = deployment();

    // Act
    await subject.prepare([champion]);

    // Assess
    expect(sagemaker).toHaveReceivedCommandTimes(DescribeEndpointCommand, 1);
    expect(sagemaker).not.toHaveReceivedCommand(CreateModelCommand);
    expect(sagemaker).not.toHaveReceivedCommand(UpdateEndpointCommand);
    expect(loads).toEqual([champion]);
  });

  it('adds a variant for a new model next to the serving ones and resolves once it is in service', async () => {
    // Prepare
    sagemaker
      .on(DescribeEndpointCommand)
      .resolvesOnce(endpoint('InService', [CHAMPION_VARIANT]))
      .resolvesOnce(endpoint('Updating', [CHAMPION_VARIANT]))
      .resolves(endpoint('InService', [CHAMPION_VARIANT, CANDIDATE_VARIANT]));
    sagemaker.on(DescribeEndpointConfigCommand).resolves(endpointConfig([championVariant]));
    sagemaker.on(CreateModelCommand).resolves({ $metadata: {}, ModelArn: 'arn:aws:sagemaker:…:model/x' });
    sagemaker.on(CreateEndpointConfigCommand).resolves({ $metadata: {}, EndpointConfigArn: 'arn:…' });
    sagemaker.on(UpdateEndpointCommand).resolves({ $metadata: {}, EndpointArn: ARN });
    const { subject } = deployment();

    // Act
    await subject.prepare([candidate]);

    // Assess
    const modelName = `${ENDPOINT}-${CANDIDATE_VARIANT}`;
    expect(sagemaker).toHaveReceivedCommandWith(CreateModelCommand, {
      ModelName: modelName,
      PrimaryContainer: { Image: IMAGE, ModelDataUrl: candidate.artifact_uri },
      ExecutionRoleArn: ROLE,
    });
    expect(sagemaker).toHaveReceivedCommandWith(DescribeEndpointConfigCommand, {
      EndpointConfigName: `${ENDPOINT}-config-1`,
    });
    const created = sagemaker.commandCalls(CreateEndpointConfigCommand)[0]!.args[0].input;
    expect(created.ProductionVariants).toEqual([
      championVariant,
      {
        VariantName: CANDIDATE_VARIANT,
        ModelName: modelName,
        InitialVariantWeight: 0.01,
        InstanceType: 'ml.c6g.large',
        InitialInstanceCount: 2,
      },
    ]);
    expect(created.DataCaptureConfig).toEqual(endpointConfig([]).DataCaptureConfig);
    expect(created.EndpointConfigName).not.toBe(`${ENDPOINT}-config-1`);
    expect(sagemaker).toHaveReceivedCommandWith(UpdateEndpointCommand, {
      EndpointName: ENDPOINT,
      EndpointConfigName: created.EndpointConfigName,
      RetainAllVariantProperties: true,
    });
  });

  it('starts the update and answers 503 "retry in a few minutes" when it outlasts the wait', async () => {
    // Prepare
    sagemaker
      .on(DescribeEndpointCommand)
      .resolvesOnce(endpoint('InService', [CHAMPION_VARIANT]))
      .resolves(endpoint('Updating', [CHAMPION_VARIANT]));
    sagemaker.on(DescribeEndpointConfigCommand).resolves(endpointConfig([championVariant]));
    sagemaker.on(UpdateEndpointCommand).resolves({ $metadata: {}, EndpointArn: ARN });
    const { subject, sleeps } = deployment({ wait: { baseDelayMs: 1_000, maxDelayMs: 2_000, maxTotalMs: 5_000 } });

    // Act
    const err = await subject.prepare([candidate]).catch((e: unknown) => e);

    // Assess
    expect(err).toBeInstanceOf(DependencyUnavailableError);
    expect((err as Error).message).toMatch(
      /being updated to serve model m_0192a1b2-.*-ffffffffffff: retry in a few minutes/,
    );
    expect(sagemaker).toHaveReceivedCommandTimes(UpdateEndpointCommand, 1);
    expect(sleeps.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(5_000);
    expect(sleeps.length).toBeGreaterThan(0);
  });

  it('refuses with 503 and starts nothing while the endpoint is already updating', async () => {
    // Prepare
    sagemaker.on(DescribeEndpointCommand).resolves(endpoint('Updating', [CHAMPION_VARIANT]));
    const { subject } = deployment();

    // Act
    const err = await subject.prepare([candidate]).catch((e: unknown) => e);

    // Assess
    expect(err).toBeInstanceOf(DependencyUnavailableError);
    expect((err as Error).message).toContain(`${ENDPOINT} is Updating`);
    expect(sagemaker).not.toHaveReceivedCommand(CreateModelCommand);
    expect(sagemaker).not.toHaveReceivedCommand(UpdateEndpointCommand);
  });

  it('reports the failure reason when the update was rolled back', async () => {
    // Prepare
    const reason = 'The primary container for production variant m-0192 did not pass the ping health check.';
    sagemaker
      .on(DescribeEndpointCommand)
      .resolvesOnce(endpoint('InService', [CHAMPION_VARIANT]))
      .resolvesOnce(endpoint('RollingBack', [CHAMPION_VARIANT]))
      .resolves(endpoint('InService', [CHAMPION_VARIANT], { FailureReason: reason }));
    sagemaker.on(DescribeEndpointConfigCommand).resolves(endpointConfig([championVariant]));
    sagemaker.on(UpdateEndpointCommand).resolves({ $metadata: {}, EndpointArn: ARN });
    const { subject } = deployment({ wait: { baseDelayMs: 100, maxDelayMs: 100, maxTotalMs: 10_000 } });

    // Act
    const err = await subject.prepare([candidate]).catch((e: unknown) => e);

    // Assess
    expect(err).toBeInstanceOf(DependencyUnavailableError);
    expect((err as Error).message).toContain(reason);
  });

  it('maps a concurrent update refused by UpdateEndpoint to 503', async () => {
    // Prepare
    sagemaker.on(DescribeEndpointCommand).resolves(endpoint('InService', [CHAMPION_VARIANT]));
    sagemaker.on(DescribeEndpointConfigCommand).resolves(endpointConfig([championVariant]));
    sagemaker.on(UpdateEndpointCommand).rejects(validation(`Cannot update in-progress endpoint "${ARN}".`));
    const { subject } = deployment();

    // Act
    const err = await subject.prepare([candidate]).catch((e: unknown) => e);

    // Assess
    expect(err).toBeInstanceOf(DependencyUnavailableError);
    expect((err as Error).message).toContain('retry in a few minutes');
  });

  it('reuses a SageMaker model left by an earlier attempt', async () => {
    // Prepare
    sagemaker
      .on(DescribeEndpointCommand)
      .resolvesOnce(endpoint('InService', [CHAMPION_VARIANT]))
      .resolves(endpoint('InService', [CHAMPION_VARIANT, CANDIDATE_VARIANT]));
    sagemaker.on(DescribeEndpointConfigCommand).resolves(endpointConfig([championVariant]));
    sagemaker
      .on(CreateModelCommand)
      .rejects(validation(`Cannot create already existing model "arn:aws:sagemaker:eu-west-1:123456789012:model/x".`));
    sagemaker.on(UpdateEndpointCommand).resolves({ $metadata: {}, EndpointArn: ARN });
    const { subject } = deployment();

    // Act
    await subject.prepare([candidate]);

    // Assess
    expect(sagemaker).toHaveReceivedCommandTimes(UpdateEndpointCommand, 1);
  });

  it('copies the capacity of a serverless variant', async () => {
    // Prepare
    const serverless: ProductionVariant = {
      VariantName: CHAMPION_VARIANT,
      ModelName: `${ENDPOINT}-${CHAMPION_VARIANT}`,
      InitialVariantWeight: 1,
      ServerlessConfig: { MemorySizeInMB: 2048, MaxConcurrency: 20 },
    };
    addedOnce();
    sagemaker.on(DescribeEndpointConfigCommand).resolves(endpointConfig([serverless]));

    // Act
    await deployment().subject.prepare([candidate]);

    // Assess
    const added = sagemaker.commandCalls(CreateEndpointConfigCommand)[0]!.args[0].input.ProductionVariants![1];
    expect(added).toMatchObject({ ServerlessConfig: { MemorySizeInMB: 2048, MaxConcurrency: 20 } });
    expect(added).not.toHaveProperty('InstanceType');
  });

  it('uses the configured instances rather than the serving variant capacity', async () => {
    // Prepare
    addedOnce();
    sagemaker.on(DescribeEndpointConfigCommand).resolves(endpointConfig([championVariant]));
    const { subject } = deployment({ capacity: { instanceType: 'ml.m6g.xlarge', initialInstanceCount: 1 } });

    // Act
    await subject.prepare([candidate]);

    // Assess
    const added = sagemaker.commandCalls(CreateEndpointConfigCommand)[0]!.args[0].input.ProductionVariants![1];
    expect(added).toMatchObject({ InstanceType: 'ml.m6g.xlarge', InitialInstanceCount: 1 });
  });

  it('refuses with 409 when the endpoint has no room for another variant', async () => {
    // Prepare
    const ten = Array.from({ length: 10 }, (_, i) => `m-old-${i}`);
    sagemaker.on(DescribeEndpointCommand).resolves(endpoint('InService', ten));
    const { subject } = deployment();

    // Act
    const err = await subject.prepare([candidate]).catch((e: unknown) => e);

    // Assess
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as Error).message).toContain('SageMaker allows 10');
    expect(sagemaker).not.toHaveReceivedCommand(CreateModelCommand);
  });
});
