/**
 * AWS metrics cdk-monitoring-constructs has no ratio or no segment for: API Gateway 5xx share per
 * route, Lambda error share, SageMaker endpoint latency and errors over every variant, Firehose
 * data freshness.
 */
import { Duration } from 'aws-cdk-lib';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';

const MINUTE = Duration.minutes(1);

export interface ApiRoute {
  readonly apiName: string;
  readonly stage: string;
  readonly method: string;
  readonly resource: string;
}

/** Share of the route's requests answered 5xx (the 5XXError average is 0 or 1 per request). */
export function apiServerErrorShare(route: ApiRoute): cw.Metric {
  return new cw.Metric({
    namespace: 'AWS/ApiGateway',
    metricName: '5XXError',
    dimensionsMap: { ApiName: route.apiName, Stage: route.stage, Method: route.method, Resource: route.resource },
    statistic: 'Average',
    period: MINUTE,
    label: `${route.method} ${route.resource} 5xx share`,
  });
}

/**
 * Errors per invocation; 0 when idle. `id` (a lower-case identifier) keeps the expression's
 * metric ids apart when several functions share one graph.
 */
export function lambdaErrorShare(fn: lambda.IFunction, id: string): cw.MathExpression {
  const errors = `errors_${id}`;
  const invocations = `invocations_${id}`;
  return new cw.MathExpression({
    expression: `IF(${invocations} > 0, FILL(${errors}, 0) / ${invocations}, 0)`,
    usingMetrics: {
      [errors]: fn.metricErrors({ statistic: 'Sum', period: MINUTE }),
      [invocations]: fn.metricInvocations({ statistic: 'Sum', period: MINUTE }),
    },
    label: `${id} error share`,
    period: MINUTE,
  });
}

/**
 * An endpoint metric over all its production variants. Variants come and go at run time (the API
 * deploys a model as a variant when it is activated or joins an experiment), so the alarm queries
 * by endpoint name with Metrics Insights instead of naming variants at synth.
 */
export function sageMakerEndpointMetric(
  endpointName: string,
  metricName: 'ModelLatency' | 'Invocation5XXErrors' | 'Invocations',
  aggregate: 'AVG' | 'MAX' | 'SUM',
): cw.MathExpression {
  return new cw.MathExpression({
    expression: `SELECT ${aggregate}(${metricName}) FROM SCHEMA("AWS/SageMaker", EndpointName, VariantName) WHERE EndpointName = '${endpointName}'`,
    usingMetrics: {},
    label: `${endpointName} ${metricName} (${aggregate.toLowerCase()} over variants)`,
    period: MINUTE,
  });
}

/** Age of the oldest record not yet delivered to S3, seconds. */
export function firehoseDataFreshness(deliveryStreamName: string): cw.Metric {
  return new cw.Metric({
    namespace: 'AWS/Firehose',
    metricName: 'DeliveryToS3.DataFreshness',
    dimensionsMap: { DeliveryStreamName: deliveryStreamName },
    statistic: 'Maximum',
    period: Duration.minutes(5),
    label: `${deliveryStreamName} data freshness`,
  });
}
