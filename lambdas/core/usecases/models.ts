import {
  ConflictError,
  DependencyUnavailableError,
  DomainError,
  GateRefusedError,
  InvalidArtifactError,
  NotFoundError,
} from '../errors.js';
import type { ModelRef } from '../ports.js';
import type { GateReport, ModelRecord, ModelUploadRequest } from '../schemas/models.js';
import type { Deps } from './deps.js';
import { decideGate } from './gate.js';
import type { ModelRouting } from './routing.js';

export const versionExists = (version: string, modelId?: string) =>
  new ConflictError(`Version ${version} already exists${modelId ? ` as model ${modelId}` : ''}.`, [
    { path: 'version', message: 'already exists' },
  ]);

const ref = (m: ModelRecord): ModelRef => ({ model_id: m.model_id, version: m.version, artifact_uri: m.artifact_uri });

/**
 * Makes the models servable (Deps.deployment; nothing to do without one). Any failure is a 503
 * unless the deployment named it: the caller retries, and nothing has changed meanwhile.
 */
export async function prepareDeployment(deps: Deps, refs: readonly ModelRef[]): Promise<void> {
  if (!deps.deployment) return;
  try {
    await deps.deployment.prepare(refs);
  } catch (err) {
    if (err instanceof DomainError) throw err;
    deps.logger.error('model deployment failed', {
      model_ids: refs.map((r) => r.model_id),
      error: (err as Error).message,
    });
    const unavailable = new DependencyUnavailableError(
      `The model endpoint cannot be prepared to serve ${refs.map((r) => r.model_id).join(', ')}: retry shortly.`,
    );
    unavailable.cause = err;
    throw unavailable;
  }
}

export class ModelsUseCase {
  constructor(
    private readonly deps: Deps,
    private readonly routing: ModelRouting,
  ) {}

  /**
   * Prepares every model routing can name (the champion and the running experiments' variants),
   * as a server does before it takes traffic, so its first requests do not wait for a model to
   * load. Returns the models prepared.
   */
  async prepareServing(): Promise<ModelRecord[]> {
    const serving = await this.routing.serving();
    if (serving.length > 0) await prepareDeployment(this.deps, serving.map(ref));
    return serving;
  }

  async active(): Promise<ModelRecord> {
    const champion = await this.deps.models.champion();
    if (!champion) throw new NotFoundError('No model is active yet.');
    return champion;
  }

  list(): Promise<ModelRecord[]> {
    return this.deps.models.list();
  }

  async get(id: string): Promise<ModelRecord> {
    const model = await this.deps.models.get(id);
    if (!model) throw new NotFoundError(`Model ${id} does not exist.`);
    return model;
  }

  /** Step 1 of the upload: register the version and hand out where to PUT the artifact. */
  async startUpload(
    input: ModelUploadRequest,
    callerBaseUrl?: string,
  ): Promise<{ model_id: string; upload_url: string; max_bytes: number }> {
    const { models, artifacts, ids, clock } = this.deps;
    // A friendly early refusal; `create` refuses the race that slips past it.
    const existing = await models.findByVersion(input.version);
    if (existing) throw versionExists(input.version, existing.model_id);
    const modelId = ids.next('m');
    const target = await artifacts.createUploadTarget(modelId, callerBaseUrl);
    await models.create({
      model_id: modelId,
      version: input.version,
      status: 'uploading',
      alias: null,
      algorithm: null,
      artifact_uri: target.artifactUri,
      artifact_bytes: null,
      metadata: input.metadata,
      training_window: null,
      holdout_metrics: null,
      negative_sampling_rate: null,
      gate: null,
      previous_champion_id: null,
      created_at: clock.now().toISOString(),
      activated_at: null,
    });
    return { model_id: modelId, upload_url: target.url, max_bytes: target.maxBytes };
  }

  /** Local only: the artifact body for an upload in progress (AWS clients PUT to S3 directly). */
  async receiveArtifact(id: string, body: Uint8Array): Promise<{ model_id: string; bytes: number }> {
    const model = await this.get(id);
    if (model.status !== 'uploading') {
      throw new ConflictError(`Model ${id} is ${model.status}; its artifact can no longer change.`);
    }
    if (!this.deps.artifacts.receive) throw new NotFoundError('This deployment takes artifacts at the presigned URL.');
    await this.deps.artifacts.receive(model.artifact_uri, body);
    return { model_id: id, bytes: body.byteLength };
  }

  /** Step 3: validate the artifact by loading it, then register the model as a candidate. */
  async completeUpload(id: string): Promise<ModelRecord> {
    const model = await this.get(id);
    if (model.status !== 'uploading') return model;
    let manifest: Awaited<ReturnType<Deps['artifacts']['inspect']>>;
    try {
      manifest = await this.deps.artifacts.inspect(model.artifact_uri);
    } catch (err) {
      // The store being down is not the artifact's fault: a 503 the client may retry, not a 400.
      if (err instanceof InvalidArtifactError || err instanceof DependencyUnavailableError) throw err;
      throw new InvalidArtifactError(`The artifact of model ${id} cannot be loaded: ${(err as Error).message}`);
    }
    return this.deps.models.update(id, {
      status: 'candidate',
      algorithm: manifest.algorithm,
      artifact_bytes: manifest.bytes,
      training_window: manifest.training_window,
      holdout_metrics: manifest.metrics,
      negative_sampling_rate: manifest.negative_sampling_rate,
    });
  }

  /**
   * Names a candidate the challenger (the model `adclick retrain` proposes to compare with the
   * champion); the previous challenger, if any, goes back to being a plain candidate. Traffic is
   * unchanged: experiments own every split.
   */
  async nameChallenger(id: string): Promise<ModelRecord> {
    const { models } = this.deps;
    const model = await this.get(id);
    if (model.alias === 'challenger') return model;
    if (model.status !== 'candidate') {
      throw new ConflictError(`Model ${id} is ${model.status}; only a candidate can be named challenger.`);
    }
    for (const other of await models.list()) {
      if (other.alias === 'challenger') await models.update(other.model_id, { status: 'candidate', alias: null });
    }
    return models.update(id, { status: 'challenger', alias: 'challenger' });
  }

  /**
   * Makes a model the champion if it passes the gate against the current champion on the same
   * holdout; `force` overrides a refusal (the report is kept on the model either way).
   * Rollback is activating the previous champion.
   */
  async activate(id: string, force: boolean): Promise<ModelRecord> {
    const { models, holdout, clock } = this.deps;
    const candidate = await this.get(id);
    if (candidate.status === 'champion') return candidate;
    if (candidate.status === 'uploading') {
      throw new ConflictError(`Model ${id} is still uploading: complete the upload first.`);
    }
    const champion = await models.champion();
    const evaluated = await holdout.evaluate(champion ? [ref(candidate), ref(champion)] : [ref(candidate)]);
    let gate: GateReport | null = null;
    if (evaluated) {
      const [c, ch] = evaluated.results;
      gate = decideGate(
        evaluated.holdout,
        { ...c!.overall, segments: c!.segments },
        ch ? { ...ch.overall, segments: ch.segments } : null,
      );
    } else if (!force) {
      throw new GateRefusedError(
        'No holdout data is available to evaluate the candidate; pass {"force": true} to activate anyway.',
        [{ path: 'force', message: 'required when there is no holdout' }],
      );
    }
    if (gate && !gate.passed && !force) {
      await models.update(id, { gate });
      throw new GateRefusedError(`The gate refused model ${id}: ${gate.reasons.join('; ')}.`, [], { gate });
    }
    // Before the promotion: traffic must never be routed to a model the endpoint cannot serve.
    await prepareDeployment(this.deps, [ref(candidate)]);
    const promoted = await models.promote(id, clock.now(), gate);
    this.routing.invalidate();
    this.deps.logger.info('model activated', { model_id: id, forced: force && !(gate?.passed ?? false) });
    return promoted;
  }
}
