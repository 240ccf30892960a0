/**
 * The AWS ModelDeployment: gives each model a production variant of the SageMaker endpoint,
 * named productionVariantName(model_id) — the TargetVariant the endpoint adapter sends
 * (sagemaker-endpoint.ts) — before the model is promoted or joins an experiment.
 *
 * A model whose variant the endpoint already has is servable: nothing is called but
 * DescribeEndpoint. Otherwise `prepare` creates a SageMaker model per missing variant (the
 * serving image from config, ModelDataUrl = the uploaded artifact, the execution role from
 * config), an endpoint config holding the current one's variants unchanged plus the new ones,
 * and starts UpdateEndpoint with RetainAllVariantProperties (autoscaled instance counts and
 * weights of the serving variants stay as they are).
 *
 * Why `prepare` does not wait for the update: an endpoint update takes minutes (new instances,
 * image pull, health checks) and an API request has 29 s (API Gateway). So `prepare` polls
 * DescribeEndpoint for a few seconds only (full-jitter backoff, `wait.maxTotalMs`, default 5 s)
 * and then rejects with DependencyUnavailableError (503) "being updated, retry in a few
 * minutes"; nothing is promoted or stored meanwhile. A retry while the endpoint is Updating gets
 * the same 503 without starting anything; once the variant is on the endpoint, the retry finds
 * it and the activation proceeds. A failed update rolls the endpoint back to its old config, so
 * the next retry starts a new one (and the failure reason is logged and returned).
 *
 * Variant weights do not split traffic (the routing does, through TargetVariant): a new variant
 * gets a small weight (default 0.01) so requests without TargetVariant — none of ours — stay
 * with the serving ones.
 *
 * The new endpoint config keeps only the variants still in use (`inUse`, read from the registry
 * and the experiments just before the config is built: the champion, the challenger, every model
 * of a running experiment) besides the ones being added; the rest are dropped, so their
 * instances go and the endpoint stays under SageMaker's 10 production variants. A variant still
 * in use is never dropped; when the variants in use and the new ones together exceed 10, `prepare`
 * refuses with ConflictError (409). The config is tagged with the one it supersedes, so
 * `deleteSuperseded` (superseded-configs.ts) can delete the old configs and the SageMaker models
 * no longer referenced once the endpoint is InService again. Without `inUse` nothing is dropped.
 *
 * With `autoscaling` (variant-autoscaling.ts), the variants the runtime adds scale like the
 * stack's first one: once a prepared model's variant is on an InService endpoint, it gets an
 * Application Auto Scaling target and target-tracking policy unless it has one (checked on every
 * `prepare` that finds it there, so the retry after a 503 and the drift monitor's `reconcile`
 * register what an earlier attempt could not); and just before an UpdateEndpoint that drops
 * variants, their targets are deregistered, since SageMaker refuses to remove a variant that has
 * one. A failure to register is logged and left to the next `prepare` or `reconcile`: the model
 * serves at its initial instance count meanwhile, which must not fail its activation.
 *
 * The in-Lambda fallback copy of each model is warmed too (FallbackModels.load, in this
 * container, not awaited: a failed load is logged and retried by FallbackModels itself); the
 * other containers load their copy on the model's first request, as before.
 */
import { createHash } from 'node:crypto';
import {
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DescribeEndpointCommand,
  type DescribeEndpointCommandOutput,
  DescribeEndpointConfigCommand,
  type ProductionVariant,
  type ProductionVariantInstanceType,
  type ProductionVariantServerlessConfig,
  type SageMakerClient,
  UpdateEndpointCommand,
} from '@aws-sdk/client-sagemaker';
import { ConflictError, DependencyUnavailableError } from '../../../core/errors.js';
import type { Logger, ModelDeployment, ModelRef } from '../../../core/ports.js';
import { type BackoffOptions, fullJitterDelay, realTiming, type Timing } from '../backoff.js';
import type { VariantAutoscaling } from './variant-autoscaling.js';
import { productionVariantName } from './variant-name.js';
import type { VariantsInUseSource } from './variants-in-use.js';

/** SageMaker's limit of production variants on one endpoint. */
export const MAX_PRODUCTION_VARIANTS = 10;

/** Tags of every endpoint config this adapter creates: which endpoint, and the config it replaced. */
export const ENDPOINT_TAG = 'adclick:endpoint';
export const SUPERSEDES_TAG = 'adclick:supersedes';

/** Capacity of a new variant: instances, or serverless. */
export type VariantCapacity =
  | { readonly instanceType: string; readonly initialInstanceCount: number }
  | { readonly serverless: ProductionVariantServerlessConfig };

export interface EndpointDeploymentConfig {
  readonly endpointName: string;
  /** The serving container image (ECR URI) of every new SageMaker model. */
  readonly imageUri: string;
  /** The role SageMaker assumes to pull the image and read the artifact. */
  readonly executionRoleArn: string;
  /** Capacity of a new variant; default the same as the endpoint's first variant. */
  readonly capacity?: VariantCapacity;
  /** InitialVariantWeight of a new variant (default 0.01). */
  readonly variantWeight?: number;
  /** How long `prepare` polls after starting an update: default first ≤ 1 s, up to 2 s, 5 s in all. */
  readonly wait?: BackoffOptions;
  /** The models whose variants the next endpoint config keeps (variants-in-use.ts); default all. */
  readonly inUse?: VariantsInUseSource;
  /** Scales the variants this adapter adds and releases those it drops; default none (no calls). */
  readonly autoscaling?: Pick<VariantAutoscaling, 'ensure' | 'release'>;
  /** Warms this container's in-process copy (FallbackModels). */
  readonly fallbacks?: { load(model: ModelRef): Promise<unknown> };
  readonly logger?: Logger;
  readonly timing?: Partial<Timing>;
}

/** What the deployment needs of a SageMakerClient (a SageMakerClient is one). */
export type SageMakerControlClient = Pick<SageMakerClient, 'send'>;

const NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;

/** `<prefix>-<suffix>` when it is a valid SageMaker name, else a hash of it (deterministic). */
export function sageMakerName(prefix: string, suffix: string): string {
  const joined = `${prefix}-${suffix}`;
  if (NAME.test(joined)) return joined;
  return `adclick-${createHash('sha256').update(joined).digest('hex').slice(0, 40)}`;
}

/** The endpoint states in which an update is already under way (UpdateEndpoint would be refused). */
const BUSY = new Set(['Creating', 'Updating', 'SystemUpdating', 'RollingBack']);

export class EndpointDeployment implements ModelDeployment {
  private readonly timing: Timing;
  private readonly wait: Required<BackoffOptions>;

  constructor(
    private readonly client: SageMakerControlClient,
    private readonly config: EndpointDeploymentConfig,
  ) {
    this.timing = { ...realTiming, ...config.timing };
    this.wait = { baseDelayMs: 1_000, maxDelayMs: 2_000, maxTotalMs: 5_000, ...config.wait };
  }

  async prepare(models: readonly ModelRef[]): Promise<void> {
    const unique = [...new Map(models.map((m) => [m.model_id, m])).values()];
    for (const model of unique) this.config.fallbacks?.load(model).catch(() => {});
    const endpoint = await this.describe();
    const missing = this.missing(endpoint, unique);
    if (missing.length === 0) {
      await this.autoscale(endpoint, unique);
      return;
    }
    const names = missing.map((m) => m.model_id).join(', ');
    if (endpoint.EndpointStatus !== 'InService') {
      throw this.busy(
        `The model endpoint ${this.config.endpointName} is ${endpoint.EndpointStatus ?? 'not in service'}; it cannot take model ${names} until that ends: retry in a few minutes.`,
      );
    }
    const kept = await this.keptVariants(endpoint, unique);
    if (kept.size + missing.length > MAX_PRODUCTION_VARIANTS) {
      throw new ConflictError(
        `The model endpoint ${this.config.endpointName} has ${kept.size} production variants in use and model ${names} would need ${missing.length} more; SageMaker allows ${MAX_PRODUCTION_VARIANTS}. Stop an experiment first.`,
      );
    }
    await this.startUpdate(endpoint, missing, kept);
    await this.autoscale(await this.waitForVariants(missing), unique);
  }

  /**
   * Prepares every serving model again: one dropped by an update that raced an activation or an
   * experiment start (its in-use read came just before the other's promotion) comes back. A
   * no-op (one DescribeEndpoint) when every serving model has its variant.
   */
  async reconcile(): Promise<void> {
    if (!this.config.inUse) return;
    const { serving } = await this.config.inUse();
    if (serving.length > 0) await this.prepare(serving);
    // Every variant on the endpoint gets its autoscaling, the stack's bootstrap one included (the
    // stack registers none: one owner, so a later deploy cannot re-register a target on a variant
    // the runtime has dropped). `ensure` leaves a variant that has a target of its own alone.
    if (!this.config.autoscaling) return;
    const endpoint = await this.describe();
    if (endpoint.EndpointStatus !== 'InService') return;
    const present = (endpoint.ProductionVariants ?? []).flatMap((v) => (v.VariantName ? [v.VariantName] : []));
    try {
      await this.config.autoscaling.ensure(present);
    } catch (err) {
      this.config.logger?.error('model variant autoscaling not registered: the next prepare or reconcile retries', {
        endpoint: this.config.endpointName,
        error: (err as Error).message,
      });
    }
  }

  /** Registers the prepared models' variants with Application Auto Scaling once they are InService. */
  private async autoscale(endpoint: DescribeEndpointCommandOutput, models: readonly ModelRef[]): Promise<void> {
    // Application Auto Scaling refuses a target on an endpoint that is being updated.
    if (!this.config.autoscaling || endpoint.EndpointStatus !== 'InService') return;
    try {
      await this.config.autoscaling.ensure(models.map((m) => productionVariantName(m.model_id)));
    } catch (err) {
      this.config.logger?.error('model variant autoscaling not registered: the next prepare or reconcile retries', {
        endpoint: this.config.endpointName,
        error: (err as Error).message,
      });
    }
  }

  /** The names of the endpoint's variants the next config keeps. */
  private async keptVariants(
    endpoint: DescribeEndpointCommandOutput,
    asked: readonly ModelRef[],
  ): Promise<Set<string>> {
    const present = (endpoint.ProductionVariants ?? []).flatMap((v) => (v.VariantName ? [v.VariantName] : []));
    if (!this.config.inUse) return new Set(present);
    const inUse = await this.config.inUse();
    const needed = new Set(
      [...inUse.serving.map((m) => m.model_id), ...inUse.kept, ...asked.map((m) => m.model_id)].map(
        productionVariantName,
      ),
    );
    return new Set(present.filter((name) => needed.has(name)));
  }

  private describe(): Promise<DescribeEndpointCommandOutput> {
    return this.client.send(new DescribeEndpointCommand({ EndpointName: this.config.endpointName }));
  }

  private missing(endpoint: DescribeEndpointCommandOutput, models: readonly ModelRef[]): ModelRef[] {
    const present = new Set((endpoint.ProductionVariants ?? []).map((v) => v.VariantName));
    return models.filter((m) => !present.has(productionVariantName(m.model_id)));
  }

  private async startUpdate(
    endpoint: DescribeEndpointCommandOutput,
    missing: readonly ModelRef[],
    kept: ReadonlySet<string>,
  ): Promise<void> {
    const { endpointName } = this.config;
    const current = await this.client.send(
      new DescribeEndpointConfigCommand({ EndpointConfigName: endpoint.EndpointConfigName }),
    );
    const existing = current.ProductionVariants ?? [];
    const retained = existing.filter((v) => kept.has(v.VariantName ?? ''));
    const dropped = existing.flatMap((v) => (v.VariantName && !kept.has(v.VariantName) ? [v.VariantName] : []));
    const added: ProductionVariant[] = [];
    for (const model of missing) {
      const variant = productionVariantName(model.model_id);
      const modelName = sageMakerName(endpointName, variant);
      await this.createModel(modelName, model);
      added.push({
        VariantName: variant,
        ModelName: modelName,
        InitialVariantWeight: this.config.variantWeight ?? 0.01,
        ...this.capacity(existing[0]),
      });
    }
    const {
      EndpointConfigName: _name,
      EndpointConfigArn: _arn,
      CreationTime: _created,
      $metadata: _metadata,
      ...settings
    } = current;
    const configName = sageMakerName(endpointName, this.timing.now().toString(36));
    await this.client.send(
      new CreateEndpointConfigCommand({
        ...settings,
        EndpointConfigName: configName,
        ProductionVariants: [...retained, ...added],
        Tags: [
          { Key: ENDPOINT_TAG, Value: endpointName },
          ...(current.EndpointConfigName ? [{ Key: SUPERSEDES_TAG, Value: current.EndpointConfigName }] : []),
        ],
      }),
    );
    // Last before the update, so that a failure before it leaves the variants scaled; a variant
    // released by an update that then fails is unused, and the next update drops it anyway.
    await this.config.autoscaling?.release(dropped);
    try {
      await this.client.send(
        new UpdateEndpointCommand({
          EndpointName: endpointName,
          EndpointConfigName: configName,
          RetainAllVariantProperties: true,
        }),
      );
    } catch (err) {
      // Another activation started an update between our DescribeEndpoint and this call.
      if (isValidation(err, /in-progress|is being updated|status/i)) {
        throw this.busy(`The model endpoint ${endpointName} is being updated: retry in a few minutes.`, err);
      }
      // A variant with an Application Auto Scaling target cannot be removed: without `autoscaling`
      // this adapter releases none, and a target registered after our release (an operator's) is
      // not ours to remove.
      if (isValidation(err, /scalable target/i)) {
        const conflict = new ConflictError(
          `The model endpoint ${endpointName} refused to drop the unused variants ${dropped.join(', ')}: ${(err as Error).message}`,
        );
        conflict.cause = err;
        throw conflict;
      }
      throw err;
    }
    this.config.logger?.info('model endpoint update started', {
      endpoint: endpointName,
      endpoint_config: configName,
      variants: added.map((v) => v.VariantName),
      dropped,
    });
  }

  private async createModel(modelName: string, model: ModelRef): Promise<void> {
    try {
      await this.client.send(
        new CreateModelCommand({
          ModelName: modelName,
          PrimaryContainer: { Image: this.config.imageUri, ModelDataUrl: model.artifact_uri },
          ExecutionRoleArn: this.config.executionRoleArn,
          Tags: [
            { Key: 'adclick:model_id', Value: model.model_id },
            { Key: 'adclick:version', Value: model.version },
          ],
        }),
      );
    } catch (err) {
      // Left by an earlier attempt whose update failed or was refused: models are immutable, reuse it.
      if (!isValidation(err, /already exist/i)) throw err;
    }
  }

  private capacity(template: ProductionVariant | undefined): Partial<ProductionVariant> {
    const capacity = this.config.capacity;
    if (capacity && 'serverless' in capacity) return { ServerlessConfig: capacity.serverless };
    if (capacity) {
      // A string from config (checked for the ml. shape there); SageMaker refuses an unknown type.
      const type = capacity.instanceType as ProductionVariantInstanceType;
      return { InstanceType: type, InitialInstanceCount: capacity.initialInstanceCount };
    }
    if (template?.ServerlessConfig) return { ServerlessConfig: template.ServerlessConfig };
    if (template?.InstanceType) {
      return { InstanceType: template.InstanceType, InitialInstanceCount: template.InitialInstanceCount ?? 1 };
    }
    throw new ConflictError(
      `The model endpoint ${this.config.endpointName}'s variants name no capacity to copy; configure one (ADCLICK_MODEL_INSTANCE_TYPE).`,
    );
  }

  /** The endpoint as last described, with the variants on it; else throws (503 while updating). */
  private async waitForVariants(missing: readonly ModelRef[]): Promise<DescribeEndpointCommandOutput> {
    const started = this.timing.now();
    for (let attempt = 0; ; attempt++) {
      const delay = fullJitterDelay(attempt, this.wait, this.timing.random);
      if (this.timing.now() - started + delay > this.wait.maxTotalMs) break;
      await this.timing.sleep(delay);
      const endpoint = await this.describe();
      if (this.missing(endpoint, missing).length === 0) return endpoint;
      if (!BUSY.has(endpoint.EndpointStatus ?? '')) {
        // Not updating and still without the variants: the update failed and was rolled back.
        this.config.logger?.error('model endpoint update failed', {
          endpoint: this.config.endpointName,
          status: endpoint.EndpointStatus,
          failure_reason: endpoint.FailureReason,
        });
        throw new DependencyUnavailableError(
          `The model endpoint ${this.config.endpointName} could not be updated to serve model ${missing.map((m) => m.model_id).join(', ')}: ${endpoint.FailureReason ?? endpoint.EndpointStatus}. Retrying starts a new update.`,
        );
      }
    }
    throw this.busy(
      `The model endpoint ${this.config.endpointName} is being updated to serve model ${missing.map((m) => m.model_id).join(', ')}: retry in a few minutes.`,
    );
  }

  private busy(message: string, cause?: unknown): DependencyUnavailableError {
    const err = new DependencyUnavailableError(message);
    if (cause !== undefined) err.cause = cause;
    return err;
  }
}

export function isValidation(err: unknown, message: RegExp): boolean {
  const e = err as { name?: string; message?: string } | null;
  return e?.name === 'ValidationException' && message.test(e.message ?? '');
}
