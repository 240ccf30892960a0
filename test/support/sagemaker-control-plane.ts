/**
 * A stateful SageMaker control plane behind aws-sdk-client-mock (no emulator exists): one
 * endpoint, its endpoint configs, models and tags, with SageMaker's response shapes and its
 * ValidationException messages. An update is seen as `Updating` by the next `updatingDescribes`
 * DescribeEndpoint calls, then the endpoint is InService on the new config.
 */
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
}

export function validation(message: string): SageMakerServiceException {
  return new SageMakerServiceException({
    name: 'ValidationException',
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
    message,
  });
}

export function fakeSageMakerControlPlane(options: FakeControlPlaneOptions) {
  const mock = mockClient(SageMakerClient);
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
  };

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
    if (!configs.has(input.EndpointConfigName)) {
      throw validation(`Could not find endpoint configuration "${input.EndpointConfigName}".`);
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

  return {
    mock,
    configs,
    models,
    state,
    /** The variant names the endpoint serves now (as DescribeEndpoint shows them, without side effects). */
    servingVariants: () => (configs.get(state.configName)?.variants ?? []).map((v) => v.VariantName ?? ''),
    /** Lets the update in progress finish at once. */
    finishUpdate: () => {
      state.updatingLeft = 0;
      describe();
    },
    restore: () => mock.restore(),
  };
}
