/**
 * Deletes the endpoint configs that EndpointDeployment's updates replaced, and the SageMaker
 * models only they referenced. Neither holds instances (dropping a variant already freed those),
 * but both count against account quotas and clutter the console after many activations.
 *
 * Only once the endpoint is InService: during an update the old config is what a failed update
 * rolls back to. The chain is followed from the current config through each config's
 * SUPERSEDES_TAG, and only configs carrying this endpoint's ENDPOINT_TAG are deleted: the
 * stack's own first config (and anything else not made here) is left alone. A model is deleted
 * only when its name is the one EndpointDeployment gives its variant and the current config does
 * not reference it. Configs of an update that failed are not on the chain and are left (they
 * cost nothing).
 */
import {
  DeleteEndpointConfigCommand,
  DeleteModelCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  type DescribeEndpointConfigCommandOutput,
  ListTagsCommand,
} from '@aws-sdk/client-sagemaker';
import type { Logger } from '../../../core/ports.js';
import {
  ENDPOINT_TAG,
  isValidation,
  type SageMakerControlClient,
  SUPERSEDES_TAG,
  sageMakerName,
} from './endpoint-deployment.js';

export interface DeletedResources {
  readonly endpointConfigs: readonly string[];
  readonly models: readonly string[];
}

export interface DeleteSupersededOptions {
  readonly endpointName: string;
  /** Configs deleted in one call at most (the rest go next time). */
  readonly maxConfigs?: number;
  readonly logger?: Logger;
}

/** Not found is what a concurrent or earlier deletion leaves: nothing to do. */
const NOT_FOUND = /could not find|does not exist/i;

export async function deleteSuperseded(
  client: SageMakerControlClient,
  options: DeleteSupersededOptions,
): Promise<DeletedResources> {
  const { endpointName, maxConfigs = 20 } = options;
  const endpointConfigs: string[] = [];
  const models: string[] = [];
  const endpoint = await client.send(new DescribeEndpointCommand({ EndpointName: endpointName }));
  if (endpoint.EndpointStatus !== 'InService' || !endpoint.EndpointConfigName) return { endpointConfigs, models };
  const current = await describeConfig(client, endpoint.EndpointConfigName);
  if (!current) return { endpointConfigs, models };
  const referenced = new Set((current.ProductionVariants ?? []).map((v) => v.ModelName));
  let next = (await tagsOf(client, current)).get(SUPERSEDES_TAG);
  while (next !== undefined && endpointConfigs.length < maxConfigs) {
    const oldName = next;
    const old = await describeConfig(client, oldName);
    if (!old) break;
    const tags = await tagsOf(client, old);
    if (tags.get(ENDPOINT_TAG) !== endpointName) break;
    for (const variant of old.ProductionVariants ?? []) {
      const name = variant.ModelName;
      if (!name || referenced.has(name) || models.includes(name)) continue;
      if (name !== sageMakerName(endpointName, variant.VariantName ?? '')) continue;
      await ignoringNotFound(() => client.send(new DeleteModelCommand({ ModelName: name })));
      models.push(name);
    }
    await ignoringNotFound(() => client.send(new DeleteEndpointConfigCommand({ EndpointConfigName: oldName })));
    endpointConfigs.push(oldName);
    next = tags.get(SUPERSEDES_TAG);
  }
  if (endpointConfigs.length > 0) {
    options.logger?.info('superseded endpoint configs deleted', {
      endpoint: endpointName,
      endpoint_configs: endpointConfigs,
      models,
    });
  }
  return { endpointConfigs, models };
}

async function describeConfig(
  client: SageMakerControlClient,
  name: string,
): Promise<DescribeEndpointConfigCommandOutput | undefined> {
  try {
    return await client.send(new DescribeEndpointConfigCommand({ EndpointConfigName: name }));
  } catch (err) {
    if (isValidation(err, NOT_FOUND)) return undefined;
    throw err;
  }
}

async function tagsOf(client: SageMakerControlClient, config: DescribeEndpointConfigCommandOutput) {
  if (!config.EndpointConfigArn) return new Map<string, string>();
  // This adapter puts two tags on a config; one page (up to 50) holds them.
  const out = await client.send(new ListTagsCommand({ ResourceArn: config.EndpointConfigArn, MaxResults: 50 }));
  return new Map((out.Tags ?? []).flatMap((t) => (t.Key && t.Value !== undefined ? [[t.Key, t.Value] as const] : [])));
}

async function ignoringNotFound(call: () => Promise<unknown>): Promise<void> {
  try {
    await call();
  } catch (err) {
    if (!isValidation(err, NOT_FOUND)) throw err;
  }
}
