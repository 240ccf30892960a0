import { Validations } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import { Construct } from 'constructs';
import { productionVariantName } from '../../../lambdas/adapters/aws/sagemaker/variant-name.js';

/**
 * The registry id the bootstrap artifact is served under: its production variant is named as the
 * runtime names every model's (variant-name.ts), so the deployment code treats it like any other.
 */
export const BOOTSTRAP_MODEL_ID = 'bootstrap';

export interface ModelEndpointProps {
  /** The endpoint's name, which the predict path and the deployment code call: `${prefix}-ctr`. */
  readonly endpointName: string;
  /** The serving image (arm64 for Graviton instances). */
  readonly imageUri: string;
  /** The first model's artifact (model.tar.gz). */
  readonly modelDataUrl: string;
  readonly executionRole: iam.IRole;
  /** Encrypts the instances' storage volumes. */
  readonly key: kms.IKey;
  readonly instanceType: string;
  /** Instances at creation (≥ 2 in prod: SageMaker spreads a variant's instances over AZs). */
  readonly initialInstanceCount: number;
  /**
   * The first production variant's model id.
   * @default BOOTSTRAP_MODEL_ID
   */
  readonly initialModelId?: string;
}

/**
 * The SageMaker endpoint with its first production variant. After that the runtime owns the
 * variants (endpoint-deployment.ts adds one per model that is activated or joins an experiment,
 * by UpdateEndpoint with a config of its own) and their autoscaling on invocations per instance:
 * the stack registers no scalable target, since a later deploy re-registering one on a variant
 * the runtime has dropped would fail; the drift monitor's `reconcile` scales the bootstrap
 * variant within one check of the deploy. This construct's config is the starting point, kept
 * stable so that a later `cdk deploy` does not touch the endpoint (lib/README.md "ML" says what
 * happens when it must).
 */
export class ModelEndpoint extends Construct {
  readonly endpoint: sagemaker.CfnEndpoint;
  readonly endpointConfig: sagemaker.CfnEndpointConfig;
  readonly variantName: string;

  constructor(scope: Construct, id: string, props: ModelEndpointProps) {
    super(scope, id);
    const modelId = props.initialModelId ?? BOOTSTRAP_MODEL_ID;
    this.variantName = productionVariantName(modelId);

    const model = new sagemaker.CfnModel(this, 'BootstrapModel', {
      executionRoleArn: props.executionRole.roleArn,
      primaryContainer: { image: props.imageUri, modelDataUrl: props.modelDataUrl },
      // The container scores in process and calls nothing: no network at all.
      enableNetworkIsolation: true,
      tags: [{ key: 'adclick:model_id', value: modelId }],
    });
    // The role's grants must exist before SageMaker checks it can pull the image and the artifact.
    const policy = props.executionRole.node.tryFindChild('DefaultPolicy');
    if (policy) model.node.addDependency(policy);
    Validations.of(model).acknowledge({
      id: 'AwsSolutions-SM1',
      reason:
        'The model runs with network isolation (EnableNetworkIsolation): its container has no network at all, which a VPC would only narrow.',
    });

    this.endpointConfig = new sagemaker.CfnEndpointConfig(this, 'Config', {
      kmsKeyId: props.key.keyArn,
      productionVariants: [
        {
          variantName: this.variantName,
          modelName: model.attrModelName,
          instanceType: props.instanceType,
          initialInstanceCount: props.initialInstanceCount,
          // Weights never split traffic: the routing names a TargetVariant (variant-name.ts).
          initialVariantWeight: 1,
        },
      ],
      tags: [{ key: 'adclick:endpoint', value: props.endpointName }],
    });

    this.endpoint = new sagemaker.CfnEndpoint(this, 'Endpoint', {
      endpointName: props.endpointName,
      endpointConfigName: this.endpointConfig.attrEndpointConfigName,
      // A deploy that must replace the config keeps the autoscaled instance counts and weights of
      // the variants it keeps, as the runtime's own updates do.
      retainAllVariantProperties: true,
    });
  }
}
