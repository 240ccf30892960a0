import type { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import type { Logger } from '../core/ports.js';

/** The core's Logger port over a Powertools Logger: the fields become keys of the JSON line. */
export function coreLogger(logger: PowertoolsLogger): Logger {
  return {
    info: (message, fields) => (fields ? logger.info(message, fields) : logger.info(message)),
    warn: (message, fields) => (fields ? logger.warn(message, fields) : logger.warn(message)),
    error: (message, fields) => (fields ? logger.error(message, fields) : logger.error(message)),
  };
}

/** What one API request reports. */
export interface RequestMeasure {
  /** The route's operationId, or `unrouted` (404, 405, documents). */
  readonly operation: string;
  readonly status: number;
  readonly latencyMs: number;
  /** Predictions in the answer served by the fallback copy of the model. */
  readonly fallbacks: number;
}

export interface RequestMetrics {
  /** Called once per request, after the answer is built. */
  record(measure: RequestMeasure): void;
}

/**
 * CloudWatch metrics as EMF log lines (Powertools Metrics): latency per operation, 5xx answers and
 * fallback predictions. Flushed after each request, so nothing waits for the next invoke.
 */
export function powertoolsMetrics(metrics: Metrics = new Metrics({ serviceName: 'adclick-api' })): RequestMetrics {
  return {
    record({ operation, status, latencyMs, fallbacks }) {
      // Emits only on the container's first request (Powertools tracks the cold start).
      metrics.captureColdStartMetric();
      metrics.addDimension('operation', operation);
      metrics.addMetric('latency', MetricUnit.Milliseconds, latencyMs);
      if (status >= 500) metrics.addMetric('serverErrors', MetricUnit.Count, 1);
      if (fallbacks > 0) metrics.addMetric('fallbackPredictions', MetricUnit.Count, fallbacks);
      metrics.publishStoredMetrics();
    },
  };
}

/**
 * Runs one invoke inside an X-Ray subsegment named for the handler (Powertools' manual mode,
 * which needs no middleware), annotated with the cold start and the service. Outside Lambda, or
 * with POWERTOOLS_TRACE_ENABLED=false, the tracer is disabled and this only calls `work`.
 */
export async function traced<T>(tracer: Tracer | undefined, name: string, work: () => Promise<T>): Promise<T> {
  if (!tracer?.isTracingEnabled()) return work();
  const segment = tracer.getSegment();
  const subsegment = segment?.addNewSubsegment(`## ${name}`);
  if (subsegment) tracer.setSegment(subsegment);
  tracer.annotateColdStart();
  tracer.addServiceNameAnnotation();
  try {
    return await work();
  } catch (err) {
    tracer.addErrorAsMetadata(err as Error);
    throw err;
  } finally {
    subsegment?.close();
    if (segment) tracer.setSegment(segment);
  }
}

/** A handler whose every invoke runs in a `## name` subsegment (see `traced`). */
export function tracedHandler<A extends unknown[], R>(
  tracer: Tracer,
  name: string,
  handler: (...args: A) => Promise<R>,
): (...args: A) => Promise<R> {
  return (...args) => traced(tracer, name, () => handler(...args));
}
