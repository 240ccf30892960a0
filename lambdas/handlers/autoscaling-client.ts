import type { Tracer } from '@aws-lambda-powertools/tracer';
import type { AutoScalingControlClient } from '../adapters/aws/sagemaker/variant-autoscaling.js';

/**
 * The Application Auto Scaling client of a function that deploys models, made at its first use:
 * only activations, experiment starts, rollbacks and housekeeping call it, so its SDK package is
 * loaded then and never weighs on a container that only answers other requests.
 */
export async function createAutoScalingClient(region: string, tracer?: Tracer): Promise<AutoScalingControlClient> {
  const { ApplicationAutoScalingClient } = await import('@aws-sdk/client-application-auto-scaling');
  const client = new ApplicationAutoScalingClient({ region });
  tracer?.captureAWSv3Client(client);
  return client;
}
