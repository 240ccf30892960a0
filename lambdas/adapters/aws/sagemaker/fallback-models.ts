/**
 * In-process copies of the models the endpoint serves, for when it cannot answer in time. A
 * model's artifact is downloaded from S3 into /tmp once per model (models are immutable: a new
 * version is a new model id), unpacked and validated by the same code as an upload
 * (shared/model-artifact.ts), loaded into the serving scorer, and the files removed: the scorer
 * holds the weights in memory.
 *
 * Loads start at cold start (`load` of the champion, awaited by the composition root) and
 * whenever the endpoint is asked to score a model that has no copy yet (`ready`, not awaited):
 * so when another model becomes active, the first requests routed to it start its load and the
 * copy follows within one download. A failed load is retried by the next request after a
 * full-jitter backoff, never more often. At most `maxModels` copies are kept; the least recently
 * used goes first.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Scorer } from '../../../../sagemaker/model/scorer.js';
import type { Logger, ModelRef } from '../../../core/ports.js';
import { type BackoffOptions, fullJitterDelay, realTiming, type Timing } from '../backoff.js';
import type { GetObjectClient } from '../s3/download.js';
import { parseS3Uri } from '../s3/s3-uri.js';

export interface FallbackModelsConfig {
  /** Copies kept in memory (default 4: the champion and an experiment's variants). */
  readonly maxModels?: number;
  /** Largest artifact downloaded (default 64 MiB, the upload limit). */
  readonly maxBytes?: number;
  /** Where artifacts are downloaded and unpacked (default the OS temp dir, /tmp in Lambda). */
  readonly tmpDir?: string;
  /** Wait before retrying a failed load: default first ≤ 1 s, doubling up to 60 s. */
  readonly retry?: Pick<BackoffOptions, 'baseDelayMs' | 'maxDelayMs'>;
  readonly logger?: Logger;
  /** Clock and randomness of the retry backoff (a test hook). */
  readonly timing?: Partial<Pick<Timing, 'now' | 'random'>>;
}

interface Entry {
  readonly loading: Promise<Scorer>;
  scorer?: Scorer;
  /** Set once the load failed: no new load before this time. */
  retryAt?: number;
  failures: number;
}

export class FallbackModels {
  /** Insertion order is recency of use: the first entry is the least recently used. */
  private readonly entries = new Map<string, Entry>();
  private readonly maxModels: number;
  private readonly now: () => number;
  private readonly random: () => number;

  constructor(
    private readonly s3: GetObjectClient,
    private readonly config: FallbackModelsConfig = {},
  ) {
    this.maxModels = config.maxModels ?? 4;
    this.now = config.timing?.now ?? realTiming.now;
    this.random = config.timing?.random ?? realTiming.random;
  }

  /**
   * The model's loaded copy, or undefined when it is not loaded (yet): then its load is started
   * in the background, unless one is running or a failed one is still backing off.
   */
  ready(model: ModelRef): Scorer | undefined {
    const entry = this.entries.get(model.model_id);
    if (entry?.scorer) {
      this.entries.delete(model.model_id);
      this.entries.set(model.model_id, entry);
      return entry.scorer;
    }
    if (entry && entry.retryAt === undefined) return undefined;
    if (entry?.retryAt !== undefined && this.now() < entry.retryAt) return undefined;
    // Errors reach the logger inside start(); nothing awaits this load.
    this.start(model, entry?.failures ?? 0).catch(() => {});
    return undefined;
  }

  /** The ids of the models with a loaded copy, least recently used first (for health checks). */
  loadedModelIds(): string[] {
    return [...this.entries].filter(([, e]) => e.scorer !== undefined).map(([id]) => id);
  }

  /** Loads the model's copy (once) and resolves when it is ready: for cold start. */
  load(model: ModelRef): Promise<Scorer> {
    const entry = this.entries.get(model.model_id);
    if (entry && entry.retryAt === undefined) return entry.loading;
    return this.start(model, entry?.failures ?? 0);
  }

  private start(model: ModelRef, failures: number): Promise<Scorer> {
    const entry: Entry = { loading: this.download(model), failures };
    this.entries.set(model.model_id, entry);
    entry.loading.then(
      (scorer) => {
        entry.scorer = scorer;
        entry.failures = 0;
        if (this.entries.get(model.model_id) === entry) {
          // The newest copy is the one traffic is moving to: last in line for eviction.
          this.entries.delete(model.model_id);
          this.entries.set(model.model_id, entry);
        }
        this.evict();
      },
      (err: unknown) => {
        entry.failures++;
        const delay = fullJitterDelay(
          entry.failures - 1,
          {
            baseDelayMs: this.config.retry?.baseDelayMs ?? 1_000,
            maxDelayMs: this.config.retry?.maxDelayMs ?? 60_000,
            maxTotalMs: Number.POSITIVE_INFINITY,
          },
          this.random,
        );
        entry.retryAt = this.now() + delay;
        this.config.logger?.error('fallback model load failed', {
          model_id: model.model_id,
          version: model.version,
          failures: entry.failures,
          retry_in_ms: delay,
          error: (err as Error).message,
        });
      },
    );
    return entry.loading;
  }

  private async download(model: ModelRef): Promise<Scorer> {
    const location = parseS3Uri(model.artifact_uri);
    if (!location) throw new Error(`Model ${model.model_id}'s artifact URI ${model.artifact_uri} is not an s3:// URI.`);
    // Loaded with the first copy, not at module init: the S3 client's package, tar and the scorer
    // are ~40 ms of a cold start that the predict path only needs once the endpoint fails, and the
    // first load runs while the first requests wait on the network.
    const [{ downloadObject }, { DEFAULT_MAX_ARTIFACT_BYTES, unpackAndLoad }] = await Promise.all([
      import('../s3/download.js'),
      import('../../shared/model-artifact.js'),
    ]);
    const work = await mkdtemp(join(this.config.tmpDir ?? tmpdir(), 'adclick-fallback-'));
    try {
      const archive = join(work, 'artifact.tar.gz');
      const bytes = await downloadObject(
        this.s3,
        location,
        archive,
        this.config.maxBytes ?? DEFAULT_MAX_ARTIFACT_BYTES,
      );
      const { scorer } = await unpackAndLoad(archive, join(work, 'model'), bytes);
      this.config.logger?.info('fallback model loaded', { model_id: model.model_id, version: model.version, bytes });
      return scorer;
    } finally {
      // Retried: an extraction that failed half-way may still be closing its last file.
      await rm(work, { recursive: true, force: true, maxRetries: 3, retryDelay: 20 });
    }
  }

  /** Drops the least recently used loaded copies past the limit; loads in flight stay. */
  private evict(): void {
    let loaded = 0;
    for (const e of this.entries.values()) if (e.scorer) loaded++;
    for (const [id, e] of this.entries) {
      if (loaded <= this.maxModels) break;
      if (e.scorer) {
        this.entries.delete(id);
        loaded--;
      }
    }
  }
}
