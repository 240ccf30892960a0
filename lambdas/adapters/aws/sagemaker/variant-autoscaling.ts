/**
 * Application Auto Scaling of the production variants EndpointDeployment adds: a scalable target
 * on `sagemaker:variant:DesiredInstanceCount` and a target-tracking policy on
 * SageMakerVariantInvocationsPerInstance, registered once the variant is InService; and the
 * target's removal before an update drops the variant (SageMaker refuses to remove a variant that
 * still has one: a ValidationException naming it).
 *
 * Both are idempotent and retry-safe, since an activation may be retried at any step:
 * - `ensure` reads the targets first and registers only the missing ones; a target that exists
 *   (the stack's on the bootstrap variant, an operator's, or ours from an attempt cut short) is
 *   left as it is, and gets our policy only when it has no scaling policy at all — so a target
 *   registered by an attempt that died before its policy gets one next time, and a target someone
 *   else tuned is never overridden (two target-tracking policies on one variant would fight).
 * - `release` deregisters (which deletes the target's policies too); not found is done already.
 */
import {
  type ApplicationAutoScalingClient,
  DeregisterScalableTargetCommand,
  DescribeScalableTargetsCommand,
  DescribeScalingPoliciesCommand,
  PutScalingPolicyCommand,
  RegisterScalableTargetCommand,
} from '@aws-sdk/client-application-auto-scaling';
import type { Logger } from '../../../core/ports.js';

/** How each added variant scales: the same settings the stack gives the bootstrap variant. */
export interface VariantScalingPolicy {
  readonly minInstances: number;
  readonly maxInstances: number;
  /** Target of SageMakerVariantInvocationsPerInstance (invocations per instance per minute). */
  readonly invocationsPerInstancePerMinute: number;
  /** Seconds after a scale-out before the next (default 120: new instances take minutes to pass health checks). */
  readonly scaleOutCooldownSeconds?: number;
  /** Seconds after a scale-in before the next (default 600: scale in slowly). */
  readonly scaleInCooldownSeconds?: number;
}

/** What the autoscaling needs of an ApplicationAutoScalingClient (one is). */
export type AutoScalingControlClient = Pick<ApplicationAutoScalingClient, 'send'>;

export const SCALABLE_DIMENSION = 'sagemaker:variant:DesiredInstanceCount';
/** One name per target: PutScalingPolicy with it updates ours rather than adding a second policy. */
export const SCALING_POLICY_NAME = 'adclick-invocations-per-instance';

export function variantResourceId(endpointName: string, variantName: string): string {
  return `endpoint/${endpointName}/variant/${variantName}`;
}

export interface VariantAutoscalingOptions {
  readonly endpointName: string;
  readonly policy: VariantScalingPolicy;
  /** Made at the first call: the package's module init must not weigh on a container that never scales. */
  readonly client: () => Promise<AutoScalingControlClient>;
  readonly logger?: Logger;
}

export class VariantAutoscaling {
  private client: Promise<AutoScalingControlClient> | undefined;

  constructor(private readonly options: VariantAutoscalingOptions) {}

  /** Gives each variant a target and policy unless it has them; returns the variants it registered. */
  async ensure(variantNames: readonly string[]): Promise<string[]> {
    if (variantNames.length === 0) return [];
    const client = await this.getClient();
    const ids = new Map(variantNames.map((v) => [variantResourceId(this.options.endpointName, v), v]));
    const existing = await client.send(
      new DescribeScalableTargetsCommand({
        ServiceNamespace: 'sagemaker',
        ScalableDimension: SCALABLE_DIMENSION,
        ResourceIds: [...ids.keys()],
      }),
    );
    const registered = new Set((existing.ScalableTargets ?? []).map((t) => t.ResourceId));
    const added: string[] = [];
    for (const [resourceId, variant] of ids) {
      if (!registered.has(resourceId)) {
        const { minInstances, maxInstances } = this.options.policy;
        await client.send(
          new RegisterScalableTargetCommand({
            ServiceNamespace: 'sagemaker',
            ScalableDimension: SCALABLE_DIMENSION,
            ResourceId: resourceId,
            MinCapacity: minInstances,
            MaxCapacity: maxInstances,
          }),
        );
        added.push(variant);
      } else if (await this.hasPolicy(client, resourceId)) {
        continue;
      }
      await this.putPolicy(client, resourceId);
    }
    if (added.length > 0) {
      this.options.logger?.info('model variant autoscaling registered', {
        endpoint: this.options.endpointName,
        variants: added,
      });
    }
    return added;
  }

  /** Removes the variants' targets (and so their policies) before an update drops the variants. */
  async release(variantNames: readonly string[]): Promise<void> {
    if (variantNames.length === 0) return;
    const client = await this.getClient();
    for (const variant of variantNames) {
      try {
        await client.send(
          new DeregisterScalableTargetCommand({
            ServiceNamespace: 'sagemaker',
            ScalableDimension: SCALABLE_DIMENSION,
            ResourceId: variantResourceId(this.options.endpointName, variant),
          }),
        );
      } catch (err) {
        // Never registered, or deregistered by an earlier attempt of this update.
        if ((err as { name?: string } | null)?.name !== 'ObjectNotFoundException') throw err;
      }
    }
  }

  private getClient(): Promise<AutoScalingControlClient> {
    this.client ??= this.options.client().catch((err: unknown) => {
      this.client = undefined;
      throw err;
    });
    return this.client;
  }

  private async hasPolicy(client: AutoScalingControlClient, resourceId: string): Promise<boolean> {
    const out = await client.send(
      new DescribeScalingPoliciesCommand({
        ServiceNamespace: 'sagemaker',
        ScalableDimension: SCALABLE_DIMENSION,
        ResourceId: resourceId,
      }),
    );
    return (out.ScalingPolicies ?? []).length > 0;
  }

  private async putPolicy(client: AutoScalingControlClient, resourceId: string): Promise<void> {
    const { policy } = this.options;
    await client.send(
      new PutScalingPolicyCommand({
        PolicyName: SCALING_POLICY_NAME,
        ServiceNamespace: 'sagemaker',
        ScalableDimension: SCALABLE_DIMENSION,
        ResourceId: resourceId,
        PolicyType: 'TargetTrackingScaling',
        TargetTrackingScalingPolicyConfiguration: {
          TargetValue: policy.invocationsPerInstancePerMinute,
          PredefinedMetricSpecification: { PredefinedMetricType: 'SageMakerVariantInvocationsPerInstance' },
          ScaleOutCooldown: policy.scaleOutCooldownSeconds ?? 120,
          ScaleInCooldown: policy.scaleInCooldownSeconds ?? 600,
        },
      }),
    );
  }
}
