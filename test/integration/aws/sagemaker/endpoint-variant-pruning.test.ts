/**
 * The endpoint keeps only the variants in use: successive activations through the real
 * activation use case, over a stateful SageMaker control plane (test/support), never reach
 * SageMaker's 10-variant limit and never drop the champion, the challenger or a running
 * experiment's models; superseded configs and models are deleted once the endpoint is InService.
 */
import 'aws-sdk-client-mock-vitest/extend';
import {
  ApplicationAutoScalingClient,
  DeregisterScalableTargetCommand,
  PutScalingPolicyCommand,
  RegisterScalableTargetCommand,
} from '@aws-sdk/client-application-auto-scaling';
import {
  CreateModelCommand,
  DeleteEndpointConfigCommand,
  type ProductionVariant,
  SageMakerClient,
  UpdateEndpointCommand,
} from '@aws-sdk/client-sagemaker';
import { afterEach, describe, expect, it } from 'vitest';
import { EndpointDeployment } from '../../../../lambdas/adapters/aws/sagemaker/endpoint-deployment.js';
import { deleteSuperseded } from '../../../../lambdas/adapters/aws/sagemaker/superseded-configs.js';
import {
  VariantAutoscaling,
  type VariantScalingPolicy,
} from '../../../../lambdas/adapters/aws/sagemaker/variant-autoscaling.js';
import { productionVariantName } from '../../../../lambdas/adapters/aws/sagemaker/variant-name.js';
import { variantsInUse } from '../../../../lambdas/adapters/aws/sagemaker/variants-in-use.js';
import { ConflictError, DependencyUnavailableError } from '../../../../lambdas/core/errors.js';
import { ModelsUseCase } from '../../../../lambdas/core/usecases/models.js';
import { ModelRouting } from '../../../../lambdas/core/usecases/routing.js';
import { fakeTiming } from '../../../support/fake-timing.js';
import { addCandidate, CHAMPION_ID, experiment, makeDeps } from '../../../support/memory-ports.js';
import { fakeSageMakerControlPlane } from '../../../support/sagemaker-control-plane.js';

const ENDPOINT = 'adclick-prod-ctr';
const IMAGE = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/adclick-serve:1.4.0';
const ROLE = 'arn:aws:iam::123456789012:role/adclick-sagemaker-execution';
const STACK_MODEL = 'adclick-prod-ctr-bootstrap';

const variantOf = (modelId: string) => productionVariantName(modelId);

function stackVariant(modelId: string, modelName = STACK_MODEL): ProductionVariant {
  return {
    VariantName: variantOf(modelId),
    ModelName: modelName,
    InitialInstanceCount: 2,
    InstanceType: 'ml.c6g.large',
    InitialVariantWeight: 1,
  };
}

let restore: (() => void) | undefined;
afterEach(() => restore?.());

const SCALING: VariantScalingPolicy = { minInstances: 2, maxInstances: 20, invocationsPerInstancePerMinute: 60_000 };

/** The champion serving alone, as the stack deployed it; activations go through ModelsUseCase. */
function world(
  options: {
    initialVariants?: ProductionVariant[];
    /** Variants the stack autoscaled. */
    scalableVariants?: string[];
    /** The autoscaling the runtime gives the variants it adds; default none. */
    scaling?: VariantScalingPolicy;
    updatingDescribes?: number;
  } = {},
) {
  const plane = fakeSageMakerControlPlane({
    endpointName: ENDPOINT,
    initialConfig: { name: `${ENDPOINT}-stack`, variants: options.initialVariants ?? [stackVariant(CHAMPION_ID)] },
    initialModels: [STACK_MODEL],
    ...(options.scalableVariants ? { scalableVariants: options.scalableVariants } : {}),
    ...(options.updatingDescribes === undefined ? {} : { updatingDescribes: options.updatingDescribes }),
  });
  restore = plane.restore;
  const { deps, ports } = makeDeps();
  const deployment = new EndpointDeployment(new SageMakerClient({ region: 'eu-west-1' }), {
    endpointName: ENDPOINT,
    imageUri: IMAGE,
    executionRoleArn: ROLE,
    inUse: variantsInUse(ports.models, ports.experiments),
    timing: fakeTiming(0.5),
    ...(options.scaling
      ? {
          autoscaling: new VariantAutoscaling({
            endpointName: ENDPOINT,
            policy: options.scaling,
            client: async () => new ApplicationAutoScalingClient({ region: 'eu-west-1' }),
          }),
        }
      : {}),
  });
  const withDeployment = { ...deps, deployment };
  const usecase = new ModelsUseCase(
    withDeployment,
    new ModelRouting(ports.models, ports.experiments, ports.clock, withDeployment.config.routingCacheMs),
  );
  const activate = async (modelId: string) => {
    addCandidate(ports, modelId);
    await usecase.activate(modelId, true);
  };
  return { plane, ports, deployment, activate };
}

describe('the endpoint variants kept by EndpointDeployment', () => {
  it('stays within 10 variants and always serves the champion over 12 successive activations', async () => {
    // Prepare
    const { plane, ports, activate } = world();
    const served: string[][] = [];

    // Act
    for (let i = 1; i <= 12; i++) {
      await activate(`m_${i}`);
      served.push(plane.servingVariants());
    }

    // Assess
    expect(plane.mock.commandCalls(UpdateEndpointCommand)).toHaveLength(12);
    expect(plane.state.maxVariants).toBeLessThanOrEqual(10);
    for (const [i, variants] of served.entries()) expect(variants).toContain(variantOf(`m_${i + 1}`));
    expect((await ports.models.champion())?.model_id).toBe('m_12');
    // The previous champion was in use when its successor's config was built.
    expect(plane.servingVariants().sort()).toEqual([variantOf('m_11'), variantOf('m_12')].sort());
  });

  it("keeps a running experiment's variants and the challenger's across activations", async () => {
    // Prepare
    const { plane, ports, deployment, activate } = world();
    await activate('m_0');
    addCandidate(ports, 'm_a');
    addCandidate(ports, 'm_b');
    // As the API does it: an experiment's variants are prepared, then the experiment is stored.
    await deployment.prepare([
      { model_id: 'm_a', version: 'm_a.v', artifact_uri: 'memory://artifacts/m_a' },
      { model_id: 'm_b', version: 'm_b.v', artifact_uri: 'memory://artifacts/m_b' },
    ]);
    ports.experiments.set([experiment({ experiment_id: 'exp_1', variants: [{ model_id: 'm_a', weight: 1 }] })]);
    await ports.models.update('m_b', { status: 'challenger', alias: 'challenger' });

    // Act
    for (let i = 1; i <= 12; i++) await activate(`m_${i}`);

    // Assess
    expect(plane.state.maxVariants).toBeLessThanOrEqual(10);
    expect(plane.servingVariants()).toEqual(expect.arrayContaining([variantOf('m_a'), variantOf('m_b')]));
    expect(plane.servingVariants()).toContain(variantOf('m_12'));
    expect(plane.servingVariants()).not.toContain(variantOf('m_0'));
  });

  it('refuses with 409 and changes nothing when the variants in use leave no room', async () => {
    // Prepare: a ten-model experiment fills the endpoint
    const ids = Array.from({ length: 10 }, (_, i) => `m_x${i}`);
    const { plane, ports, deployment } = world({ initialVariants: ids.map((id) => stackVariant(id)) });
    for (const id of ids) addCandidate(ports, id);
    ports.experiments.set([
      experiment({ experiment_id: 'exp_big', variants: ids.map((model_id) => ({ model_id, weight: 1 })) }),
    ]);

    // Act
    const err = await deployment
      .prepare([{ model_id: 'm_new', version: 'v', artifact_uri: 's3://b/m_new.tar.gz' }])
      .catch((e: unknown) => e);

    // Assess
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as Error).message).toContain('10 production variants in use');
    expect(plane.mock).not.toHaveReceivedCommand(CreateModelCommand);
    expect(plane.servingVariants()).toEqual(ids.map(variantOf));
  });

  it('answers 409 naming the variants when SageMaker refuses to drop an autoscaled one it may not release', async () => {
    // Prepare: the stack autoscaled its variant; this deployment has no autoscaling to release it with
    const { plane, activate } = world({ scalableVariants: [variantOf(CHAMPION_ID)] });
    await activate('m_1');

    // Act: the next activation drops the stack's first champion's variant
    const err = await activate('m_2').catch((e: unknown) => e);

    // Assess
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as Error).message).toContain(`refused to drop the unused variants ${variantOf(CHAMPION_ID)}:`);
    expect((err as Error).message).toContain('must be deregistered as scalable targets');
    expect(plane.servingVariants()).toContain(variantOf(CHAMPION_ID));
  });

  it('gives a serving model whose variant was dropped its variant back on reconcile', async () => {
    // Prepare: an experiment started on m_a after the config that dropped it was built
    const { plane, ports, deployment, activate } = world();
    await activate('m_1');
    addCandidate(ports, 'm_a');
    ports.experiments.set([experiment({ experiment_id: 'exp_1', variants: [{ model_id: 'm_a', weight: 1 }] })]);
    expect(plane.servingVariants()).not.toContain(variantOf('m_a'));

    // Act
    await deployment.reconcile();

    // Assess
    expect(plane.servingVariants()).toEqual(expect.arrayContaining([variantOf('m_1'), variantOf('m_a')]));
  });

  it('changes nothing on reconcile when every serving model has its variant', async () => {
    // Prepare
    const { plane, deployment } = world();

    // Act
    await deployment.reconcile();

    // Assess
    expect(plane.mock).not.toHaveReceivedCommand(UpdateEndpointCommand);
  });
});

describe('the autoscaling of the variants EndpointDeployment adds', () => {
  /** As the stack deploys it: the bootstrap variant alone, with the stack's scalable target and policy. */
  const bootstrapWorld = (options: { scaling?: VariantScalingPolicy; updatingDescribes?: number } = {}) =>
    world({
      initialVariants: [stackVariant('bootstrap')],
      scalableVariants: [variantOf('bootstrap')],
      scaling: SCALING,
      ...options,
    });
  const ours = {
    TargetValue: 60_000,
    PredefinedMetricSpecification: { PredefinedMetricType: 'SageMakerVariantInvocationsPerInstance' },
    ScaleOutCooldown: 120,
    ScaleInCooldown: 600,
  };

  it("succeeds at the first activation by deregistering the bootstrap variant's target before dropping the variant", async () => {
    // Prepare
    const { plane, activate } = bootstrapWorld();

    // Act
    await activate('m_1');

    // Assess
    expect(plane.mock).toHaveReceivedCommandTimes(UpdateEndpointCommand, 1);
    expect(plane.autoscaling).toHaveReceivedCommandWith(DeregisterScalableTargetCommand, {
      ServiceNamespace: 'sagemaker',
      ResourceId: `endpoint/${ENDPOINT}/variant/${variantOf('bootstrap')}`,
      ScalableDimension: 'sagemaker:variant:DesiredInstanceCount',
    });
    expect(plane.servingVariants()).toEqual([variantOf('m_1')]);
    expect(plane.scaledVariants()).toEqual([variantOf('m_1')]);
  });

  it("gives the stack's bootstrap variant its autoscaling on reconcile, before any model is activated", async () => {
    // Prepare: a fresh deploy, no champion in the registry, no scalable target (the stack registers none)
    const { plane, ports, deployment } = world({ initialVariants: [stackVariant('bootstrap')], scaling: SCALING });
    ports.models.models.clear();

    // Act
    await deployment.reconcile();

    // Assess
    expect(plane.scaledVariants()).toEqual([variantOf('bootstrap')]);
    const target = plane.targets.get(`endpoint/${ENDPOINT}/variant/${variantOf('bootstrap')}`);
    expect(Object.fromEntries(target!.policies)).toEqual({ 'adclick-invocations-per-instance': ours });
  });

  it('gives an added variant its scalable target and target-tracking policy once it is InService', async () => {
    // Prepare
    const { plane, activate } = bootstrapWorld();

    // Act
    await activate('m_1');

    // Assess
    const target = plane.targets.get(`endpoint/${ENDPOINT}/variant/${variantOf('m_1')}`);
    expect(target).toMatchObject({ minCapacity: 2, maxCapacity: 20 });
    expect(Object.fromEntries(target!.policies)).toEqual({ 'adclick-invocations-per-instance': ours });
  });

  it('registers nothing while the endpoint is updating and registers on the retry that finds the variant', async () => {
    // Prepare: the update outlasts prepare's wait
    const { plane, ports, activate, deployment } = bootstrapWorld({ updatingDescribes: 100 });
    const err = await activate('m_1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DependencyUnavailableError);
    expect(plane.autoscaling).not.toHaveReceivedCommand(RegisterScalableTargetCommand);
    plane.finishUpdate();

    // Act: the retry
    await deployment.prepare([{ model_id: 'm_1', version: 'm_1.v', artifact_uri: 'memory://artifacts/m_1' }]);

    // Assess
    expect(plane.scaledVariants()).toEqual([variantOf('m_1')]);
    expect(ports.models.models.get('m_1')?.alias).not.toBe('champion');
  });

  it('leaves exactly the kept variants autoscaled after 12 successive activations', async () => {
    // Prepare
    const { plane, activate } = bootstrapWorld();

    // Act
    for (let i = 1; i <= 12; i++) await activate(`m_${i}`);

    // Assess
    expect(plane.mock).toHaveReceivedCommandTimes(UpdateEndpointCommand, 12);
    expect(plane.scaledVariants().sort()).toEqual(plane.servingVariants().sort());
    expect(plane.servingVariants().sort()).toEqual([variantOf('m_11'), variantOf('m_12')].sort());
    for (const target of plane.targets.values()) expect([...target.policies.values()]).toEqual([ours]);
  });

  it('calls no Application Auto Scaling API without a scaling policy', async () => {
    // Prepare
    const { plane, activate } = world();

    // Act
    for (let i = 1; i <= 3; i++) await activate(`m_${i}`);

    // Assess
    expect(plane.servingVariants()).toContain(variantOf('m_3'));
    expect(plane.autoscaling).not.toHaveReceivedAnyCommand();
  });

  it('registers nothing again for a variant that has its target and policy', async () => {
    // Prepare
    const { plane, deployment, activate } = bootstrapWorld();
    await activate('m_1');
    plane.autoscaling.resetHistory();

    // Act
    await deployment.prepare([{ model_id: 'm_1', version: 'm_1.v', artifact_uri: 'memory://artifacts/m_1' }]);
    await deployment.reconcile();

    // Assess
    expect(plane.autoscaling).not.toHaveReceivedCommand(RegisterScalableTargetCommand);
    expect(plane.autoscaling).not.toHaveReceivedCommand(PutScalingPolicyCommand);
  });

  it('gives a serving variant its missing policy on reconcile, and leaves a target with a policy of its own alone', async () => {
    // Prepare: an attempt registered m_1's target and died before its policy; an operator tuned m_a's
    const { plane, ports, deployment, activate } = bootstrapWorld();
    await activate('m_1');
    addCandidate(ports, 'm_a');
    await deployment.prepare([{ model_id: 'm_a', version: 'm_a.v', artifact_uri: 'memory://artifacts/m_a' }]);
    ports.experiments.set([experiment({ experiment_id: 'exp_1', variants: [{ model_id: 'm_a', weight: 1 }] })]);
    const m1 = plane.targets.get(`endpoint/${ENDPOINT}/variant/${variantOf('m_1')}`)!;
    m1.policies.clear();
    const ma = plane.targets.get(`endpoint/${ENDPOINT}/variant/${variantOf('m_a')}`)!;
    ma.policies.clear();
    ma.policies.set('operator-step-scaling', undefined);

    // Act
    await deployment.reconcile();

    // Assess
    expect(Object.fromEntries(m1.policies)).toEqual({ 'adclick-invocations-per-instance': ours });
    expect([...ma.policies.keys()]).toEqual(['operator-step-scaling']);
  });

  it('activates the model when registering its autoscaling fails, and registers it on the next reconcile', async () => {
    // Prepare
    const { plane, ports, deployment, activate } = bootstrapWorld();
    plane.state.registerFailure = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });

    // Act
    await activate('m_1');
    const before = plane.scaledVariants();
    await deployment.reconcile();

    // Assess
    expect((await ports.models.champion())?.model_id).toBe('m_1');
    expect(before).toEqual([]);
    expect(plane.scaledVariants()).toEqual([variantOf('m_1')]);
  });
});

describe('deleteSuperseded', () => {
  it("deletes the configs and models earlier updates replaced, never the current ones or the stack's", async () => {
    // Prepare
    const { plane, activate } = world();
    for (let i = 1; i <= 4; i++) await activate(`m_${i}`);
    plane.finishUpdate();
    const current = plane.state.configName;

    // Act
    const deleted = await deleteSuperseded(new SageMakerClient({ region: 'eu-west-1' }), { endpointName: ENDPOINT });

    // Assess
    expect(deleted.endpointConfigs).toHaveLength(3);
    expect([...plane.configs.keys()].sort()).toEqual([current, `${ENDPOINT}-stack`].sort());
    const referenced = plane.configs.get(current)!.variants.map((v) => v.ModelName);
    expect([...plane.models].sort()).toEqual([STACK_MODEL, ...referenced].sort());
    expect([...deleted.models].sort()).toEqual([`${ENDPOINT}-${variantOf('m_1')}`, `${ENDPOINT}-${variantOf('m_2')}`]);
  });

  it('deletes nothing while the endpoint is updating (a failed update rolls back to the old config)', async () => {
    // Prepare: the last update is still in progress
    const { plane, activate } = world();
    await activate('m_1');
    await activate('m_2');
    plane.state.pending = plane.state.configName;
    plane.state.updatingLeft = 5;

    // Act
    const deleted = await deleteSuperseded(new SageMakerClient({ region: 'eu-west-1' }), { endpointName: ENDPOINT });

    // Assess
    expect(deleted).toEqual({ endpointConfigs: [], models: [] });
    expect(plane.mock).not.toHaveReceivedCommand(DeleteEndpointConfigCommand);
  });
});
