/**
 * A stateful SageMaker control plane behind aws-sdk-client-mock (no emulator exists): one
 * endpoint, its endpoint configs, models and tags, with SageMaker's response shapes and its
 * ValidationException messages. An update is seen as `Updating` by the next `updatingDescribes`
 * DescribeEndpoint calls, then the endpoint is InService on the new config.
 *
 * Application Auto Scaling is faked with it (register, deregister, describe, policies), because
 * the two interact: UpdateEndpoint refuses to drop a variant that still has a scalable target, and
 * a target can only be registered on a variant of the InService endpoint.
 */
import {
  ApplicationAutoScalingClient,
  ApplicationAutoScalingServiceException,
  DeregisterScalableTargetCommand,
  DescribeScalableTargetsCommand,
  DescribeScalingPoliciesCommand,
  PutScalingPolicyCommand,
  RegisterScalableTargetCommand,
  type TargetTrackingScalingPolicyConfiguration,
} from '@aws-sdk/client-application-auto-scaling';
import {
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DeleteEndpointConfigCommand,
  DeleteModelCommand,
  DescribeEndpointCommand,
  type DescribeEndpointCommandOutput,
  DescribeEndpointConfigCommand,
  ListTagsCommand,
  type ProductionVariant,
  SageMakerClient,
  SageMakerServiceException,
  type Tag,
  UpdateEndpointCommand,
} from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';

const ACCOUNT = 'arn:aws:sagemaker:eu-west-1:123456789012';
const IMAGE = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/adclick-serve:1.4.0';
const metadata = () => ({ httpStatusCode: 200, requestId: '5f1c2a3b-0000-4000-8000-000000000000' });

export interface StoredConfig {
  readonly name: string;
  readonly arn: string;
  readonly variants: ProductionVariant[];
  readonly tags: Tag[];
}

export interface FakeControlPlaneOptions {
  readonly endpointName: string;
  /** The stack's first config: its name and variants (untagged, as CDK would make it). */
  readonly initialConfig: { name: string; variants: ProductionVariant[] };
  /** SageMaker models that exist before the test (the stack's). */
  readonly initialModels?: readonly string[];
  readonly updatingDescribes?: number;
  /** Variants with a scalable target before the test (the stack's, with a policy of its own). */
  readonly scalableVariants?: readonly string[];
}

/** One Application Auto Scaling target of a variant, with its policies by name. */
export interface StoredScalableTarget {
  readonly resourceId: string;
  readonly arn: string;
  minCapacity: number;
  maxCapacity: number;
  readonly policies: Map<string, TargetTrackingScalingPolicyConfiguration | undefined>;
}

export function validation(message: string): SageMakerServiceException {
  return new SageMakerServiceException({
    name: 'ValidationException',
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
    message,
  });
}

function autoScalingError(name: 'ValidationException' | 'ObjectNotFoundException', message: string) {
  return new ApplicationAutoScalingServiceException({
    name,
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
    message,
  });
}

const DIMENSION = 'sagemaker:variant:DesiredInstanceCount';
interface TargetKey {
  ServiceNamespace?: string;
  ScalableDimension?: string;
  ResourceId?: string;
}
const notRegistered = (input: TargetKey) =>
  autoScalingError(
    'ObjectNotFoundException',
    `No scalable target registered for service namespace: ${input.ServiceNamespace}, resource ID: ${input.ResourceId}, scalable dimension: ${input.ScalableDimension}`,
  );

export function fakeSageMakerControlPlane(options: FakeControlPlaneOptions) {
  const mock = mockClient(SageMakerClient);
  const autoscaling = mockClient(ApplicationAutoScalingClient);
  const { endpointName } = options;
  const configs = new Map<string, StoredConfig>();
  const models = new Set(options.initialModels ?? []);
  const addConfig = (name: string, variants: ProductionVariant[], tags: Tag[]) => {
    const stored = { name, arn: `${ACCOUNT}:endpoint-config/${name}`, variants, tags };
    configs.set(name, stored);
    return stored;
  };
  addConfig(options.initialConfig.name, options.initialConfig.variants, []);
  const state = {
    configName: options.initialConfig.name,
    pending: undefined as string | undefined,
    updatingLeft: 0,
    /** The largest number of variants any config held. */
    maxVariants: options.initialConfig.variants.length,
    /** Thrown by the next RegisterScalableTarget (a throttle, say), then cleared. */
    registerFailure: undefined as Error | undefined,
  };
  const targets = new Map<string, StoredScalableTarget>();
  const resourceIdOf = (variant: string) => `endpoint/${endpointName}/variant/${variant}`;
  const addTarget = (resourceId: string, min: number, max: number) => {
    const arn = `arn:aws:application-autoscaling:eu-west-1:123456789012:scalable-target/056${targets.size.toString(16).padStart(29, '0')}`;
    const stored: StoredScalableTarget = { resourceId, arn, minCapacity: min, maxCapacity: max, policies: new Map() };
    targets.set(resourceId, stored);
    return stored;
  };
  for (const variant of options.scalableVariants ?? []) {
    // As CDK names a target-tracking policy: after its construct path.
    addTarget(resourceIdOf(variant), 1, 2).policies.set('adclickdevmlEndpointScalingInvocationsPerInstance', undefined);
  }

  const servingVariants = () => (configs.get(state.configName)?.variants ?? []).map((v) => v.VariantName ?? '');

  const describe = (): DescribeEndpointCommandOutput => {
    if (state.pending !== undefined && state.updatingLeft-- <= 0) {
      state.configName = state.pending;
      state.pending = undefined;
    }
    const variants = configs.get(state.configName)?.variants ?? [];
    return {
      $metadata: metadata(),
      EndpointName: endpointName,
      EndpointArn: `${ACCOUNT}:endpoint/${endpointName}`,
      EndpointConfigName: state.configName,
      ProductionVariants: variants.map((v) => ({
        VariantName: v.VariantName,
        DeployedImages: [{ SpecifiedImage: IMAGE, ResolutionTime: new Date('2026-12-01T09:00:00Z') }],
        CurrentWeight: v.InitialVariantWeight,
        DesiredWeight: v.InitialVariantWeight,
        CurrentInstanceCount: v.InitialInstanceCount,
        DesiredInstanceCount: v.InitialInstanceCount,
      })),
      EndpointStatus: state.pending === undefined ? 'InService' : 'Updating',
      CreationTime: new Date('2026-11-01T09:00:00Z'),
      LastModifiedTime: new Date('2026-12-01T09:00:00Z'),
    };
  };

  mock.on(DescribeEndpointCommand).callsFake(async () => describe());
  mock.on(DescribeEndpointConfigCommand).callsFake(async (input: { EndpointConfigName: string }) => {
    const c = configs.get(input.EndpointConfigName);
    if (!c)
      throw validation(
        `Could not find endpoint configuration "${ACCOUNT}:endpoint-config/${input.EndpointConfigName}".`,
      );
    return {
      $metadata: metadata(),
      EndpointConfigName: c.name,
      EndpointConfigArn: c.arn,
      ProductionVariants: structuredClone(c.variants),
      CreationTime: new Date('2026-12-01T08:55:00Z'),
    };
  });
  mock.on(CreateModelCommand).callsFake(async (input: { ModelName: string }) => {
    if (models.has(input.ModelName)) {
      throw validation(`Cannot create already existing model "${ACCOUNT}:model/${input.ModelName}".`);
    }
    models.add(input.ModelName);
    return { $metadata: metadata(), ModelArn: `${ACCOUNT}:model/${input.ModelName}` };
  });
  mock
    .on(CreateEndpointConfigCommand)
    .callsFake(async (input: { EndpointConfigName: string; ProductionVariants: ProductionVariant[]; Tags?: Tag[] }) => {
      if (configs.has(input.EndpointConfigName)) {
        throw validation(`Cannot create already existing endpoint configuration "${input.EndpointConfigName}".`);
      }
      if (input.ProductionVariants.length > 10) {
        throw validation(
          "1 validation error detected: Value at 'productionVariants' failed to satisfy constraint: Member must have length less than or equal to 10",
        );
      }
      for (const v of input.ProductionVariants) {
        if (!models.has(v.ModelName ?? '')) throw validation(`Could not find model "${ACCOUNT}:model/${v.ModelName}".`);
      }
      state.maxVariants = Math.max(state.maxVariants, input.ProductionVariants.length);
      const c = addConfig(input.EndpointConfigName, structuredClone(input.ProductionVariants), input.Tags ?? []);
      return { $metadata: metadata(), EndpointConfigArn: c.arn };
    });
  mock.on(UpdateEndpointCommand).callsFake(async (input: { EndpointConfigName: string }) => {
    if (state.pending !== undefined) {
      throw validation(`Cannot update in-progress endpoint "${ACCOUNT}:endpoint/${endpointName}".`);
    }
    const next = configs.get(input.EndpointConfigName);
    if (!next) {
      throw validation(`Could not find endpoint configuration "${input.EndpointConfigName}".`);
    }
    const keeps = new Set(next.variants.map((v) => v.VariantName));
    const scaled = servingVariants().filter((v) => !keeps.has(v) && targets.has(resourceIdOf(v)));
    if (scaled.length > 0) {
      throw validation(
        `The variant(s) "[${scaled.join(', ')}]" must be deregistered as scalable targets with AWS Application Auto Scaling before they can be removed or have their instance type updated.`,
      );
    }
    state.pending = input.EndpointConfigName;
    state.updatingLeft = options.updatingDescribes ?? 1;
    return { $metadata: metadata(), EndpointArn: `${ACCOUNT}:endpoint/${endpointName}` };
  });
  mock.on(ListTagsCommand).callsFake(async (input: { ResourceArn: string }) => {
    const c = [...configs.values()].find((x) => x.arn === input.ResourceArn);
    if (!c) throw validation(`Could not find resource "${input.ResourceArn}".`);
    return { $metadata: metadata(), Tags: structuredClone(c.tags) };
  });
  mock.on(DeleteModelCommand).callsFake(async (input: { ModelName: string }) => {
    if (!models.delete(input.ModelName))
      throw validation(`Could not find model "${ACCOUNT}:model/${input.ModelName}".`);
    return { $metadata: metadata() };
  });
  mock.on(DeleteEndpointConfigCommand).callsFake(async (input: { EndpointConfigName: string }) => {
    if (!configs.delete(input.EndpointConfigName)) {
      throw validation(
        `Could not find endpoint configuration "${ACCOUNT}:endpoint-config/${input.EndpointConfigName}".`,
      );
    }
    return { $metadata: metadata() };
  });

  const checkKey = (input: TargetKey) => {
    if (input.ServiceNamespace !== 'sagemaker' || input.ScalableDimension !== DIMENSION) {
      throw autoScalingError(
        'ValidationException',
        `Unsupported service namespace, resource type or scalable dimension`,
      );
    }
  };
  autoscaling.on(RegisterScalableTargetCommand).callsFake(async (input: TargetKey & Record<string, unknown>) => {
    checkKey(input);
    const failure = state.registerFailure;
    state.registerFailure = undefined;
    if (failure) throw failure;
    const variant = /^endpoint\/([^/]+)\/variant\/([^/]+)$/.exec(input.ResourceId ?? '');
    if (!variant || variant[1] !== endpointName || !servingVariants().includes(variant[2] ?? '')) {
      throw autoScalingError(
        'ValidationException',
        `The endpoint variant ${input.ResourceId} does not exist. Please specify an existing endpoint variant.`,
      );
    }
    if (state.pending !== undefined) {
      throw autoScalingError(
        'ValidationException',
        `Endpoint ${ACCOUNT}:endpoint/${endpointName} is in Updating status; it must be InService.`,
      );
    }
    const existing = targets.get(input.ResourceId ?? '');
    const min = input.MinCapacity as number | undefined;
    const max = input.MaxCapacity as number | undefined;
    if (existing) {
      existing.minCapacity = min ?? existing.minCapacity;
      existing.maxCapacity = max ?? existing.maxCapacity;
      return { $metadata: metadata(), ScalableTargetARN: existing.arn };
    }
    if (min === undefined || max === undefined) {
      throw autoScalingError(
        'ValidationException',
        'MinCapacity and MaxCapacity are required to register a new target',
      );
    }
    return { $metadata: metadata(), ScalableTargetARN: addTarget(input.ResourceId ?? '', min, max).arn };
  });
  autoscaling.on(DeregisterScalableTargetCommand).callsFake(async (input: TargetKey) => {
    checkKey(input);
    if (!targets.delete(input.ResourceId ?? '')) throw notRegistered(input);
    return { $metadata: metadata() };
  });
  autoscaling.on(DescribeScalableTargetsCommand).callsFake(async (input: TargetKey & { ResourceIds?: string[] }) => {
    const wanted = input.ResourceIds === undefined ? undefined : new Set(input.ResourceIds);
    const found = [...targets.values()].filter((t) => !wanted || wanted.has(t.resourceId));
    return {
      $metadata: metadata(),
      ScalableTargets: found.map((t) => ({
        ServiceNamespace: 'sagemaker',
        ResourceId: t.resourceId,
        ScalableDimension: DIMENSION,
        MinCapacity: t.minCapacity,
        MaxCapacity: t.maxCapacity,
        RoleARN:
          'arn:aws:iam::123456789012:role/aws-service-role/sagemaker.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint',
        CreationTime: new Date('2026-12-01T09:00:00Z'),
        ScalableTargetARN: t.arn,
      })),
    };
  });
  autoscaling.on(DescribeScalingPoliciesCommand).callsFake(async (input: TargetKey & { PolicyNames?: string[] }) => {
    const found = [...targets.values()]
      .filter((t) => input.ResourceId === undefined || t.resourceId === input.ResourceId)
      .flatMap((t) => [...t.policies.entries()].map(([name, config]) => ({ t, name, config })))
      .filter(({ name }) => !input.PolicyNames || input.PolicyNames.includes(name));
    return {
      $metadata: metadata(),
      ScalingPolicies: found.map(({ t, name, config }) => ({
        PolicyARN: `arn:aws:autoscaling:eu-west-1:123456789012:scalingPolicy:${t.arn.split('/')[1]}:resource/sagemaker/${t.resourceId}:policyName/${name}`,
        PolicyName: name,
        ServiceNamespace: 'sagemaker',
        ResourceId: t.resourceId,
        ScalableDimension: DIMENSION,
        PolicyType: 'TargetTrackingScaling',
        TargetTrackingScalingPolicyConfiguration: config,
        CreationTime: new Date('2026-12-01T09:00:00Z'),
      })),
    };
  });
  autoscaling.on(PutScalingPolicyCommand).callsFake(
    async (
      input: TargetKey & {
        PolicyName: string;
        TargetTrackingScalingPolicyConfiguration?: TargetTrackingScalingPolicyConfiguration;
      },
    ) => {
      checkKey(input);
      const target = targets.get(input.ResourceId ?? '');
      if (!target) throw notRegistered(input);
      target.policies.set(input.PolicyName, structuredClone(input.TargetTrackingScalingPolicyConfiguration));
      return {
        $metadata: metadata(),
        PolicyARN: `arn:aws:autoscaling:eu-west-1:123456789012:scalingPolicy:${target.arn.split('/')[1]}:resource/sagemaker/${target.resourceId}:policyName/${input.PolicyName}`,
        Alarms: [],
      };
    },
  );

  return {
    mock,
    autoscaling,
    /** Application Auto Scaling's targets, by resource id (`endpoint/<name>/variant/<variant>`). */
    targets,
    /** The variants that have a scalable target now. */
    scaledVariants: () => [...targets.keys()].map((id) => id.split('/')[3] ?? ''),
    configs,
    models,
    state,
    /** The variant names the endpoint serves now (as DescribeEndpoint shows them, without side effects). */
    servingVariants,
    /** Lets the update in progress finish at once. */
    finishUpdate: () => {
      state.updatingLeft = 0;
      describe();
    },
    restore: () => {
      mock.restore();
      autoscaling.restore();
    },
  };
}
