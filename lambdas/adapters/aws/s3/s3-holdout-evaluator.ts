/**
 * The AWS HoldoutEvaluator: the holdout is a JSON Lines object in S3 (by default
 * `s3://<model bucket>/holdout/holdout.jsonl`, written by the retraining pipeline), in the local
 * holdout file's format, scored by the same code (shared/holdout-metrics.ts), so both evaluators
 * give the gate the same numbers for the same rows and models.
 *
 * The object is streamed line by line from the GetObject body and each row scored as it arrives;
 * at most `maxRows` rows are read (default 2 M; the result then says "the first N rows"). The
 * models are the in-process copies of `FallbackModels` (downloaded from their artifact_uri,
 * unpacked and validated like an upload, cached per container), so a model the endpoint already
 * falls back to is not downloaded again, and a candidate judged here is ready when it goes live.
 *
 * A missing object is no holdout: null, and the gate then needs `force`. It is asked for before
 * any model is loaded, so a missing holdout never waits on (or fails with) a model download; its
 * body is read once the models are loaded.
 */

import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { GetObjectCommand, type GetObjectCommandOutput, NoSuchKey } from '@aws-sdk/client-s3';
import type { Scorer } from '../../../../sagemaker/model/scorer.js';
import type { HoldoutEvaluator, ModelRef } from '../../../core/ports.js';
import { type HoldoutEvaluation, scoreHoldout } from '../../shared/holdout-metrics.js';
import type { GetObjectClient } from './download.js';
import { formatS3Uri, type S3Location } from './s3-uri.js';

/** The holdout's key in the model bucket unless configured otherwise. */
export const DEFAULT_HOLDOUT_KEY = 'holdout/holdout.jsonl';

/** Where the evaluator gets a model's scorer (FallbackModels is one). */
export interface ScorerSource {
  load(model: ModelRef): Promise<Scorer>;
}

export interface S3HoldoutEvaluatorConfig {
  /** The holdout object. */
  readonly location: S3Location;
  /** Rows read at most (default 2 M, shared/holdout-metrics.ts). */
  readonly maxRows?: number;
}

/**
 * Only S3's own "no such key": an AccessDenied (what S3 answers for a missing key to a role
 * without s3:ListBucket) is a deployment fault to report, not a missing holdout.
 */
const isNoSuchKey = (err: unknown): boolean => err instanceof NoSuchKey || (err as Error | null)?.name === 'NoSuchKey';

export class S3HoldoutEvaluator implements HoldoutEvaluator {
  constructor(
    private readonly s3: GetObjectClient,
    private readonly scorers: ScorerSource,
    private readonly config: S3HoldoutEvaluatorConfig,
  ) {}

  async evaluate(models: readonly ModelRef[]): Promise<HoldoutEvaluation | null> {
    const { bucket, key } = this.config.location;
    let out: GetObjectCommandOutput;
    try {
      out = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    } catch (err) {
      if (isNoSuchKey(err)) return null;
      throw err;
    }
    // In Node the SDK's body is a Readable (an IncomingMessage with the SDK's stream mixin).
    const body = out.Body as Readable | undefined;
    if (!body) throw new Error(`GetObject of ${formatS3Uri(this.config.location)} returned no body.`);
    try {
      const scorers = await Promise.all(models.map((m) => this.scorers.load(m)));
      const lines = createInterface({ input: body, crlfDelay: Number.POSITIVE_INFINITY });
      return await scoreHoldout(lines, scorers, {
        source: formatS3Uri(this.config.location),
        ...(this.config.maxRows === undefined ? {} : { maxRows: this.config.maxRows }),
      });
    } finally {
      // Ends the download when the row cap (or an error) stopped the read early.
      body.destroy();
    }
  }
}
