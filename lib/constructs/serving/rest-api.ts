/**
 * The REST API: one resource and method per route of the route table, each carrying the
 * authorisation of its route's `access` — the mapping `trustApiGateway`
 * (lambdas/handlers/apigateway.ts) relies on: `ad-server` → an API key of the ad servers' usage
 * plan, `admin` → IAM (SigV4), `open` → none. JSON bodies are validated by models generated from
 * the routes' zod schemas. Access logs (JSON), X-Ray and stage throttling on every method.
 */
import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type * as z from 'zod';
import type { Route } from '../../../lambdas/core/api/route.js';
import { retentionOf } from '../state/serving-network.js';
import { requestModelSchema } from './request-models.js';

/** What a route needs of the gateway; `Route<any>` of both route tables fits. */
export type GatewayRoute = Pick<Route<never>, 'method' | 'path' | 'operationId' | 'access' | 'body'>;

export interface AdclickRestApiProps {
  readonly restApiName: string;
  readonly stageName: string;
  readonly routes: readonly GatewayRoute[];
  /** The function (or alias) that serves a route (proxy integration). */
  readonly handlerOf: (route: GatewayRoute) => lambda.IFunction;
  /** Ad servers' usage plan and the stage's default method throttling. */
  readonly rateLimit: number;
  readonly burstLimit: number;
  readonly accessLogRetentionDays: number;
}

/** The one request model of a route with a required JSON body, if any (optional bodies are the function's to check). */
export function modelledBody(route: GatewayRoute): { schema: z.ZodType } | undefined {
  if (route.body?.kind !== 'json' || route.body.optional) return undefined;
  const { schema } = route.body;
  // The route table the stacks take (ROUTES) documents every body; a bare one is a wiring mistake.
  if (!schema) throw new Error(`route ${route.operationId} has no body schema to model`);
  return { schema };
}

export class AdclickRestApi extends Construct {
  readonly api: apigateway.RestApi;
  readonly usagePlan: apigateway.UsagePlan;

  constructor(scope: Construct, id: string, props: AdclickRestApiProps) {
    super(scope, id);
    const accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: retentionOf(props.accessLogRetentionDays),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const binaryTypes = [
      ...new Set(props.routes.flatMap((r) => (r.body?.kind === 'binary' ? r.body.contentTypes : []))),
    ];
    this.api = new apigateway.RestApi(this, 'Api', {
      restApiName: props.restApiName,
      description: 'adclick: predictions, events, models, experiments, analytics',
      endpointConfiguration: { types: [apigateway.EndpointType.REGIONAL] },
      binaryMediaTypes: binaryTypes,
      // Execution logs need the account's API Gateway → CloudWatch role.
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.DESTROY,
      deployOptions: {
        stageName: props.stageName,
        tracingEnabled: true,
        metricsEnabled: true,
        // Errors only: INFO at the design's 100 K requests a second would cost more than the API,
        // and request bodies (user ids) are never logged (no data trace).
        loggingLevel: apigateway.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        throttlingRateLimit: props.rateLimit,
        throttlingBurstLimit: props.burstLimit,
        accessLogDestination: new apigateway.LogGroupLogDestination(accessLogs),
        accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields({
          caller: true,
          httpMethod: true,
          ip: true,
          protocol: true,
          requestTime: true,
          resourcePath: true,
          responseLength: true,
          status: true,
          user: true,
        }),
      },
    });
    // On the API: its CloudWatchRole child is what the acknowledgement concerns.
    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      reason:
        'AmazonAPIGatewayPushToCloudWatchLogs is the policy AWS defines for the account-wide API Gateway logging role; it grants only log writes.',
    });

    // What API Gateway answers itself (a refused body, a missing key, throttling, an unknown
    // route) gets the API's problem+json shape too, so a client parses one error format.
    const problem = (id: string, type: apigateway.ResponseType, status: number | undefined, title: string) =>
      this.api.addGatewayResponse(id, {
        type,
        ...(status === undefined ? {} : { statusCode: String(status) }),
        templates: {
          'application/json': `{"type":"about:blank","title":"${title}",${
            status === undefined ? '' : `"status":${status},`
          }"detail":$context.error.messageString,"errors":[]}`,
        },
        responseHeaders: { 'Content-Type': "'application/problem+json'" },
      });
    problem('BadRequestBody', apigateway.ResponseType.BAD_REQUEST_BODY, 400, 'Bad Request');
    problem('BadRequestParameters', apigateway.ResponseType.BAD_REQUEST_PARAMETERS, 400, 'Bad Request');
    problem('InvalidApiKey', apigateway.ResponseType.INVALID_API_KEY, 403, 'Forbidden');
    problem('AccessDenied', apigateway.ResponseType.ACCESS_DENIED, 403, 'Forbidden');
    // Also what an unknown path or method gets from API Gateway (its "Missing Authentication Token").
    problem('MissingAuthenticationToken', apigateway.ResponseType.MISSING_AUTHENTICATION_TOKEN, 403, 'Forbidden');
    problem('RequestTooLarge', apigateway.ResponseType.REQUEST_TOO_LARGE, 413, 'Content Too Large');
    problem('UnsupportedMediaType', apigateway.ResponseType.UNSUPPORTED_MEDIA_TYPE, 415, 'Unsupported Media Type');
    problem('Throttled', apigateway.ResponseType.THROTTLED, 429, 'Too Many Requests');
    problem('QuotaExceeded', apigateway.ResponseType.QUOTA_EXCEEDED, 429, 'Too Many Requests');
    // Any other: the status API Gateway chose, its message, the same shape.
    problem('Default4xx', apigateway.ResponseType.DEFAULT_4XX, undefined, 'Client Error');
    problem('Default5xx', apigateway.ResponseType.DEFAULT_5XX, undefined, 'Server Error');

    const validator = this.api.addRequestValidator('Validator', {
      requestValidatorName: 'body-and-parameters',
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    const integrations = new Map<lambda.IFunction, apigateway.LambdaIntegration>();
    const integrationOf = (fn: lambda.IFunction) => {
      let integration = integrations.get(fn);
      if (!integration) {
        integration = new apigateway.LambdaIntegration(fn, { proxy: true, allowTestInvoke: false });
        integrations.set(fn, integration);
      }
      return integration;
    };

    for (const route of props.routes) {
      const resource = this.api.root.resourceForPath(route.path);
      const body = modelledBody(route);
      const model = body
        ? this.api.addModel(`${route.operationId}Model`, {
            modelName: route.operationId,
            contentType: 'application/json',
            schema: requestModelSchema(body.schema),
          })
        : undefined;
      const method = resource.addMethod(route.method, integrationOf(props.handlerOf(route)), {
        operationName: route.operationId,
        ...authorisation(route),
        ...(model ? { requestValidator: validator, requestModels: { 'application/json': model } } : {}),
      });
      acknowledgeAuthorisation(method, route);
    }

    this.usagePlan = this.api.addUsagePlan('AdServers', {
      name: `${props.restApiName}-ad-servers`,
      description: 'Ad servers: the API keys of /predict* and /event/*',
      throttle: { rateLimit: props.rateLimit, burstLimit: props.burstLimit },
      apiStages: [{ api: this.api, stage: this.api.deploymentStage }],
    });
    // The first ad server's key (its value is generated): more are added to this plan per ad server.
    this.usagePlan.addApiKey(this.api.addApiKey('AdServerKey', { apiKeyName: `${props.restApiName}-ad-server` }));
  }
}

function authorisation(route: GatewayRoute): apigateway.MethodOptions {
  switch (route.access) {
    case 'ad-server':
      return { apiKeyRequired: true, authorizationType: apigateway.AuthorizationType.NONE };
    case 'admin':
      return { authorizationType: apigateway.AuthorizationType.IAM };
    case 'open':
      return { authorizationType: apigateway.AuthorizationType.NONE };
  }
}

const WHY: Readonly<Record<GatewayRoute['access'], string>> = {
  'ad-server':
    'Ad-server routes are machine-to-machine at up to 100 K requests a second: an API key of the ad servers usage plan (apiKeyRequired) authenticates and throttles them, and the function refuses a call without the key (trustApiGateway).',
  admin:
    'Admin routes use IAM (SigV4) authorization: operators and tools sign with their AWS credentials; no user pool is involved.',
  open: 'Health and the OpenAPI document are public by design (DESIGN.md "Access"): they expose no data.',
};

function acknowledgeAuthorisation(method: apigateway.Method, route: GatewayRoute): void {
  const reason = WHY[route.access];
  Validations.of(method).acknowledge({ id: 'AwsSolutions-COG4', reason });
  if (route.access !== 'admin') Validations.of(method).acknowledge({ id: 'AwsSolutions-APIG4', reason });
}
