/**
 * The functions' own metrics, as Powertools Metrics writes them (EMF log lines): namespace from
 * POWERTOOLS_METRICS_NAMESPACE (config.metricsNamespace), a `service` dimension per function and,
 * for API requests, an `operation` dimension (lambdas/handlers/observability.ts).
 */
import { Duration } from 'aws-cdk-lib';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';

/** The predict function's Powertools service name (lambdas/handlers/predict.ts). */
export const PREDICT_SERVICE = 'adclick-predict';
/** Route operationIds of lambdas/core/api/predict-routes.ts. */
export const PREDICT_OPERATIONS = { single: 'predict', batch: 'predictBatch' } as const;

export interface FallbackRateOptions {
  readonly namespace: string;
  /** Ads a `/predict/batch` call scores on average (config.targets.adsPerPredictRequest). */
  readonly adsPerBatch: number;
  /** @default one minute */
  readonly period?: Duration;
}

/**
 * Share of predictions served by the in-Lambda fallback copy. The handler counts fallback
 * predictions but not predictions, only requests (the `latency` metric's sample count), so a
 * batch request counts as `adsPerBatch` predictions: an estimate, exact for `/predict`.
 */
export function fallbackRate(options: FallbackRateOptions): cw.MathExpression {
  const period = options.period ?? Duration.minutes(1);
  const metric = (metricName: string, operation: string, statistic: string) =>
    new cw.Metric({
      namespace: options.namespace,
      metricName,
      dimensionsMap: { service: PREDICT_SERVICE, operation },
      statistic,
      period,
    });
  const predictions = `(FILL(requestsSingle, 0) + ${options.adsPerBatch} * FILL(requestsBatch, 0))`;
  return new cw.MathExpression({
    expression: `IF(${predictions} > 0, (FILL(fallbacksSingle, 0) + FILL(fallbacksBatch, 0)) / ${predictions}, 0)`,
    usingMetrics: {
      fallbacksSingle: metric('fallbackPredictions', PREDICT_OPERATIONS.single, 'Sum'),
      fallbacksBatch: metric('fallbackPredictions', PREDICT_OPERATIONS.batch, 'Sum'),
      requestsSingle: metric('latency', PREDICT_OPERATIONS.single, 'SampleCount'),
      requestsBatch: metric('latency', PREDICT_OPERATIONS.batch, 'SampleCount'),
    },
    label: 'fallback predictions / predictions',
    period,
  });
}
