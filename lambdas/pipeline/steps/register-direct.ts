/**
 * Step 5 in AWS (the pipeline's RegisterChallenger / RegisterCandidate): the candidate registered
 * straight in the registry rather than through the API (the API is deployed after the ML stack,
 * and the job role's IAM on the table is narrower than `execute-api:Invoke`), but through the
 * same use case the API's upload routes call (ModelsUseCase: start the upload, store the
 * artifact where the record says, complete, name challenger), so the record is the one
 * `adclick retrain` gets through the server, with the same metadata.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packModel, readManifest } from '../../../sagemaker/index.js';
import { modelFolder } from '../../../sagemaker/model/model-location.js';
import type { WarmStartDecision } from '../../../sagemaker/model/warm-start.js';
import type { Clock, IdGenerator, ModelArtifactStore, ModelRegistry } from '../../core/ports.js';
import { type GateReport, type ModelRecord, ModelUploadRequest } from '../../core/schemas/models.js';
import type { Deps } from '../../core/usecases/deps.js';
import { ModelsUseCase } from '../../core/usecases/models.js';
import type { ModelRouting } from '../../core/usecases/routing.js';

/** What the build step wrote beside the data sets (datasets.json) that the registry keeps. */
export interface DatasetsReport {
  readonly train: { readonly from: string; readonly to: string; readonly examples: number };
  readonly holdout: { readonly from: string; readonly to: string };
  /** The model the candidate was compared with (and warm-started from). */
  readonly champion?: { readonly model_id: string } | null;
  /** Why a warm start asked for was not even tried (no champion, no usable state). */
  readonly warm_start?: { readonly fresh_reason: string | null } | null;
}

export interface RegisterDirectOptions {
  readonly registry: ModelRegistry;
  readonly artifacts: ModelArtifactStore;
  /** Stores the packed artifact at the URI the upload's record names. */
  readonly putArtifact: (artifactUri: string, body: Uint8Array) => Promise<void>;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  /** The model folder, its model.tar.gz, or a folder holding it (a processing input). */
  readonly model: string;
  readonly gate: GateReport;
  readonly datasets: DatasetsReport | null;
  /** Name it challenger (the gate passed). */
  readonly challenger: boolean;
  readonly version?: string;
}

const noop = () => {};

/** `retrain-YYYYMMDDTHHMMSSZ`, as `adclick retrain` names a version. */
export function retrainVersion(now: Date): string {
  return `retrain-${now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}`;
}

/** The registry metadata `adclick retrain` records (retrain.ts), from the pipeline's reports. */
export function retrainMetadata(
  gate: GateReport,
  datasets: DatasetsReport | null,
  warm: WarmStartDecision | undefined,
): ModelUploadRequest['metadata'] {
  const used = warm?.used ?? false;
  const fallback = datasets?.warm_start?.fresh_reason ?? (warm?.requested && !used ? (warm.reason ?? 'unknown') : null);
  return {
    source: 'retrain',
    train_from: datasets?.train.from ?? null,
    train_to: datasets?.train.to ?? null,
    holdout_from: datasets?.holdout.from ?? null,
    holdout_to: datasets?.holdout.to ?? null,
    train_rows: datasets?.train.examples ?? null,
    holdout_logloss: gate.candidate.logloss,
    champion_holdout_logloss: gate.champion?.logloss ?? null,
    gate_passed: gate.passed,
    warm_start: used,
    warm_start_from: used ? (datasets?.champion?.model_id ?? null) : null,
    // The registry keeps strings up to 1024 characters.
    warm_start_fallback: fallback?.slice(0, 1024) ?? null,
  };
}

export async function registerDirect(options: RegisterDirectOptions): Promise<ModelRecord> {
  const deps = {
    models: options.registry,
    artifacts: options.artifacts,
    clock: options.clock,
    ids: options.ids,
    logger: { info: noop, warn: noop, error: noop },
  } as Partial<Deps> as Deps;
  // The upload use cases read only the registry, the artifact store, the clock and the ids.
  const models = new ModelsUseCase(deps, {} as ModelRouting);
  const work = await mkdtemp(join(tmpdir(), 'adclick-register-'));
  try {
    const dir = await modelFolder(options.model, join(work, 'model'));
    const warm = (await readManifest(dir)).metrics?.warm_start as WarmStartDecision | undefined;
    const request = ModelUploadRequest.parse({
      version: options.version ?? retrainVersion(options.clock.now()),
      metadata: retrainMetadata(options.gate, options.datasets, warm),
    });
    const started = await models.startUpload(request);
    const record = await models.get(started.model_id);
    await options.putArtifact(record.artifact_uri, await packModel(dir));
    const model = await models.completeUpload(started.model_id);
    return options.challenger ? await models.nameChallenger(model.model_id) : model;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Reads the JSON reports the pipeline hands the step. */
export async function readJson<T>(file: string): Promise<T> {
  return JSON.parse(await readFile(file, 'utf8')) as T;
}
