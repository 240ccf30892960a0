/**
 * The AWS ModelEndpoint: SageMaker Runtime InvokeEndpoint in the container's invocation format,
 * with TargetVariant naming the production variant of the model the routing chose (sticky A/B:
 * the split is ours, variant-name.ts), under a time budget (default 40 ms of the 50 ms
 * end-to-end budget).
 *
 * On a timeout, throttling, a model not ready, a 5xx, a container error or an unreadable answer
 * the batch is scored by the in-process copy of the same model (FallbackModels) with the scorer
 * the container runs, and each result says `fallback: true` (the prediction log records it).
 * Without a loaded copy the call rejects with DependencyUnavailableError (a 503); the copy's
 * load has been started meanwhile, so the next requests can fall back.
 *
 * The SDK client's own retries and timeouts come on top of the budget: the composition root
 * creates it with `maxAttempts: 1` (a retry cannot fit in 40 ms; the fallback is the retry).
 */
import { InvokeEndpointCommand, type InvokeEndpointCommandOutput } from '@aws-sdk/client-sagemaker-runtime';
import type { Scorer } from '../../../../sagemaker/model/scorer.js';
import { DependencyUnavailableError } from '../../../core/errors.js';
import type { Logger, ModelEndpoint, ModelRef, ScoreOptions, ScoreResult, ScoreRow } from '../../../core/ports.js';
import type { FallbackModels } from './fallback-models.js';
import { InvalidEndpointResponseError, invocationBody, parseInvocationResponse } from './invocation.js';
import { productionVariantName } from './variant-name.js';

/** What the endpoint needs of a SageMakerRuntimeClient (a SageMakerRuntimeClient is one). */
export interface InvokeEndpointClient {
  send(command: InvokeEndpointCommand, options?: { abortSignal?: AbortSignal }): Promise<InvokeEndpointCommandOutput>;
}

export const DEFAULT_ENDPOINT_TIMEOUT_MS = 40;

export type FallbackReason = 'timeout' | 'throttled' | 'not-ready' | 'unavailable' | 'model-error' | 'error';

export interface SageMakerEndpointConfig {
  readonly endpointName: string;
  /** Time budget of one InvokeEndpoint (default 40 ms). */
  readonly timeoutMs?: number;
  /** The production variant serving a model (default productionVariantName(model_id)). */
  readonly variantName?: (model: ModelRef) => string;
  readonly logger?: Logger;
  /** Called once per fallen-back batch (e.g. a Powertools metric). */
  readonly onFallback?: (reason: FallbackReason, model: ModelRef) => void;
}

/** InvokeEndpoint did not answer within the budget. */
export class EndpointTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`InvokeEndpoint did not answer within ${timeoutMs} ms.`);
    this.name = 'EndpointTimeoutError';
  }
}

export function fallbackReason(err: unknown): FallbackReason {
  if (err instanceof EndpointTimeoutError) return 'timeout';
  const e = err as { name?: string; $fault?: string; $metadata?: { httpStatusCode?: number } } | null;
  if (e?.name === 'AbortError' || e?.name === 'TimeoutError') return 'timeout';
  // ModelNotReadyException is an HTTP 429 too: test its name first.
  if (e?.name === 'ModelNotReadyException') return 'not-ready';
  if (e?.name === 'ThrottlingException' || e?.$metadata?.httpStatusCode === 429) return 'throttled';
  if (e?.name === 'ModelError' || err instanceof InvalidEndpointResponseError) return 'model-error';
  if (e?.$fault === 'server' || (e?.$metadata?.httpStatusCode ?? 0) >= 500) return 'unavailable';
  return 'error';
}

/** The fallback scores row by row, exactly as the local endpoint does. */
function scoreInProcess(scorer: Scorer, rows: readonly ScoreRow[], options: ScoreOptions): ScoreResult[] {
  const uncertainty = options.uncertainty === true;
  return rows.map((row) => {
    const s = scorer.score(row.features, { explain: options.explain, uncertainty });
    const result: { -readonly [K in keyof ScoreResult]: ScoreResult[K] } = { probability: s.probability };
    if (s.explanation) result.explanation = s.explanation;
    result.fallback = true;
    if (uncertainty) result.uncertainty = s.uncertainty ?? null;
    return result;
  });
}

const decoder = new TextDecoder();

export class SageMakerModelEndpoint implements ModelEndpoint {
  private readonly timeoutMs: number;
  private readonly variantName: (model: ModelRef) => string;

  constructor(
    private readonly client: InvokeEndpointClient,
    private readonly fallbacks: FallbackModels,
    private readonly config: SageMakerEndpointConfig,
  ) {
    this.timeoutMs = config.timeoutMs ?? DEFAULT_ENDPOINT_TIMEOUT_MS;
    this.variantName = config.variantName ?? ((model) => productionVariantName(model.model_id));
  }

  async score(model: ModelRef, rows: readonly ScoreRow[], options: ScoreOptions): Promise<ScoreResult[]> {
    if (rows.length === 0) return [];
    // Asked on every call, so a newly active model's copy starts loading with its first request.
    this.fallbacks.ready(model);
    try {
      return await this.invoke(model, rows, options);
    } catch (err) {
      const reason = fallbackReason(err);
      const scorer = this.fallbacks.ready(model);
      const fields = {
        model_id: model.model_id,
        variant: this.variantName(model),
        reason,
        error: (err as Error).message,
      };
      if (!scorer) {
        this.config.logger?.error('model endpoint failed and no fallback copy is loaded', fields);
        const unavailable = new DependencyUnavailableError(
          `The model endpoint failed (${reason}) and no fallback copy of model ${model.model_id} is loaded yet: retry shortly.`,
        );
        unavailable.cause = err;
        throw unavailable;
      }
      this.config.logger?.warn('model endpoint failed; scored by the fallback copy', fields);
      this.config.onFallback?.(reason, model);
      return scoreInProcess(scorer, rows, options);
    }
  }

  private async invoke(model: ModelRef, rows: readonly ScoreRow[], options: ScoreOptions): Promise<ScoreResult[]> {
    const command = new InvokeEndpointCommand({
      EndpointName: this.config.endpointName,
      TargetVariant: this.variantName(model),
      ContentType: 'application/json',
      Accept: 'application/json',
      Body: JSON.stringify(invocationBody(rows, options.explain, options.uncertainty === true)),
    });
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    // The race settles on time even if the HTTP handler ignores the abort signal.
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new EndpointTimeoutError(this.timeoutMs));
      }, this.timeoutMs);
    });
    let out: InvokeEndpointCommandOutput;
    try {
      out = await Promise.race([this.client.send(command, { abortSignal: controller.signal }), timeout]);
    } finally {
      clearTimeout(timer);
    }
    if (!out.Body) throw new InvalidEndpointResponseError('no body');
    return parseInvocationResponse(
      decoder.decode(out.Body),
      rows.length,
      options.explain,
      options.uncertainty === true,
    );
  }
}
