/**
 * ServingStack on its own, over stand-ins for the data, state and ML stacks: every function's
 * synthesized environment parses with that function's own schema, every method is authorised as
 * its route says, JSON bodies are validated by generated models, the stage is throttled, traced,
 * logged and behind WAF, IAM has no `*` action, and cdk-nag has nothing unacknowledged to say.
 */
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ROUTES } from '../../lambdas/core/api/routes.js';
import { ApiEnvironment, parseApiConfig } from '../../lambdas/handlers/config.js';
import { FeatureCountersEnvironment } from '../../lambdas/handlers/consumer-config.js';
import { DriftMonitorEnvironment, parseDriftMonitorConfig } from '../../lambdas/handlers/drift-monitor.js';
import { FraudConsumerEnvironment } from '../../lambdas/handlers/fraud-consumer.js';
import { PredictEnvironment } from '../../lambdas/handlers/predict-config.js';
import { parsePredictionLogRedriveConfig } from '../../lambdas/handlers/prediction-log-redrive.js';
import { parsePredictionLogStreamConfig } from '../../lambdas/handlers/prediction-log-stream.js';
import { STAGES, type StageName } from '../../lib/config.js';
import { GATEWAY_ROUTES, ServingStack } from '../../lib/stacks/serving-stack.js';
import { nagFindings } from './support/synth.js';
import { fakeData, fakeMl, fakeState, upstreamStack } from './support/upstream.js';

const REGION = 'eu-west-1';

function buildServing(stage: StageName) {
  const { app, stack } = upstreamStack();
  const config = STAGES[stage];
  const serving = new ServingStack(app, `${config.prefix}-serving`, {
    config,
    data: fakeData(stack, config.prefix),
    state: fakeState(stack, config.prefix),
    ml: fakeMl(stack, config.prefix),
    env: { account: stack.account, region: stack.region },
  });
  return { app, serving, template: Template.fromStack(serving) };
}

const dev = buildServing('dev');
const prod = buildServing('prod');
// biome-ignore lint/suspicious/noExplicitAny: CloudFormation properties are read as the template has them.
const resources = dev.template.toJSON().Resources as Record<string, { Type: string; Properties: any }>;

/** A template value as the deployed string: pseudo parameters of the test environment, joins joined. */
function resolve(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, unknown>;
  if (v.Ref === 'AWS::URLSuffix') return 'amazonaws.com';
  if (v.Ref === 'AWS::Partition') return 'aws';
  if (v.Ref === 'AWS::Region') return REGION;
  if (v.Ref === 'AWS::AccountId') return '123456789012';
  if (Array.isArray(v['Fn::Join'])) {
    const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map(resolve).join(sep);
  }
  throw new Error(`unresolvable in a test: ${JSON.stringify(value)}`);
}

/** The function's environment as Lambda gives it to the handler (AWS_REGION is the runtime's). */
function environmentOf(functionName: string): Record<string, string> {
  const fn = Object.values(resources).find(
    (r) => r.Type === 'AWS::Lambda::Function' && r.Properties.FunctionName === functionName,
  );
  if (!fn) throw new Error(`no function ${functionName}`);
  const vars = fn.Properties.Environment.Variables as Record<string, unknown>;
  return { AWS_REGION: REGION, ...Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, resolve(v)])) };
}

describe('the functions', () => {
  it.each([
    ['predict', (env: Record<string, string>) => PredictEnvironment.parse(env)],
    ['api', (env: Record<string, string>) => ApiEnvironment.parse(env)],
    ['feature-counters', (env: Record<string, string>) => FeatureCountersEnvironment.parse(env)],
    ['fraud-consumer', (env: Record<string, string>) => FraudConsumerEnvironment.parse(env)],
    ['prediction-log-stream', parsePredictionLogStreamConfig],
    ['prediction-log-redrive', parsePredictionLogRedriveConfig],
    ['drift-monitor', (env: Record<string, string>) => DriftMonitorEnvironment.parse(env)],
  ])('gives %s an environment its own schema accepts', (fn, parse) => {
    // Act
    const env = environmentOf(`adclick-dev-${fn}`);

    // Assess
    expect(() => parse(env)).not.toThrow();
  });

  it('points the Redis users at TLS and the AUTH token secret, never a password in the URL', () => {
    for (const fn of ['predict', 'api', 'feature-counters']) {
      // Act
      const env = environmentOf(`adclick-dev-${fn}`);

      // Assess
      expect(env.ADCLICK_REDIS_URL).toMatch(/^rediss:\/\/[^:@/]+:\d+$/);
      expect(env.ADCLICK_REDIS_AUTH_SECRET_ARN).toMatch(/:secret:adclick-dev-redis-auth-/);
    }
  });

  it('gives the API and the drift monitor the ML stack scaling for the variants they add', () => {
    // Prepare
    const { model } = STAGES.dev;
    const expected = {
      minInstances: model.minInstances,
      maxInstances: model.maxInstances,
      invocationsPerInstancePerMinute: model.invocationsPerInstancePerMinute,
    };

    // Act
    const api = parseApiConfig(environmentOf('adclick-dev-api'));
    const drift = parseDriftMonitorConfig(environmentOf('adclick-dev-drift-monitor'));

    // Assess
    expect(api.modelDeployment.scaling).toEqual(expected);
    expect(drift.modelDeployment.scaling).toEqual(expected);
  });

  it('copies sql/ into the Athena users and says where', () => {
    expect(environmentOf('adclick-dev-api').ADCLICK_SQL_DIR).toBe('/var/task/sql');
    expect(environmentOf('adclick-dev-drift-monitor').ADCLICK_SQL_DIR).toBe('/var/task/sql');
  });

  it('runs every function on Node.js 22, ARM64, traced, with its log retention', () => {
    // Assess
    dev.template.resourceCountIs('AWS::Lambda::Function', 8);
    dev.template.allResourcesProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
    });
    dev.template.allResourcesProperties('AWS::Logs::LogGroup', {
      RetentionInDays: STAGES.dev.serving.logRetentionDays,
    });
  });

  it('puts exactly the Redis users in the VPC', () => {
    const inVpc = Object.values(resources)
      .filter((r) => r.Type === 'AWS::Lambda::Function' && r.Properties.VpcConfig)
      .map((r) => r.Properties.FunctionName)
      .sort();
    expect(inVpc).toEqual([
      'adclick-dev-api',
      'adclick-dev-erasure-worker',
      'adclick-dev-feature-counters',
      'adclick-dev-predict',
    ]);
  });

  it('keeps the fraud consumer a singleton and gives predict its provisioned concurrency in prod', () => {
    dev.template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'adclick-dev-fraud-consumer',
      ReservedConcurrentExecutions: 1,
    });
    prod.template.hasResourceProperties('AWS::Lambda::Alias', {
      Name: 'live',
      ProvisionedConcurrencyConfig: {
        ProvisionedConcurrentExecutions: STAGES.prod.serving.predictProvisionedConcurrency,
      },
    });
    prod.template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'adclick-prod-predict',
      MemorySize: STAGES.prod.serving.predictMemoryMiB,
    });
  });
});

describe('event sources', () => {
  it('feeds both event streams to the counters and the fraud rules with partial batch responses', () => {
    const kinesis = Object.values(resources).filter(
      (r) =>
        r.Type === 'AWS::Lambda::EventSourceMapping' &&
        JSON.stringify(r.Properties.EventSourceArn).includes(':kinesis:'),
    );
    expect(kinesis).toHaveLength(4);
    for (const m of kinesis) {
      expect(m.Properties).toMatchObject({
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        BisectBatchOnFunctionError: false,
        ParallelizationFactor: 1,
        DestinationConfig: { OnFailure: { Destination: expect.anything() } },
      });
    }
  });

  it('sends only inserts of the prediction log to the Firehose writer, with bounded retries', () => {
    dev.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: Match.stringLikeRegexp('table/adclick-dev-predictions/stream/'),
      FilterCriteria: { Filters: [{ Pattern: JSON.stringify({ eventName: ['INSERT'] }) }] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 10,
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
    });
  });

  it('drains the prediction log DLQ slowly and runs the drift monitor on a schedule', () => {
    dev.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: Match.stringLikeRegexp(':adclick-dev-prediction-log-dlq$'),
      ScalingConfig: { MaximumConcurrency: 2 },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    dev.template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(15 minutes)',
      Targets: [Match.objectLike({ RetryPolicy: { MaximumRetryAttempts: 2 }, DeadLetterConfig: Match.anyValue() })],
    });
  });

  it('tells the API where erasures go and runs the erasure worker every minute, allowed to start and follow the Glue rewrite', () => {
    // Assess
    const erasureEnv = {
      ADCLICK_ERASURES_TABLE: Match.anyValue(),
      ADCLICK_ERASURE_JOB: 'adclick-dev-rewrite-partition',
      ADCLICK_LAKE_BUCKET: Match.anyValue(),
      // Firehose's 300 s buffer and a minute: the lake's rewrite waits for what is in delivery.
      ADCLICK_ERASURE_LAKE_DELAY_SECONDS: '360',
    };
    for (const fn of ['adclick-dev-api', 'adclick-dev-erasure-worker'])
      dev.template.hasResourceProperties('AWS::Lambda::Function', {
        FunctionName: fn,
        Environment: { Variables: Match.objectLike(erasureEnv) },
      });
    dev.template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'adclick-dev-erasure-worker',
      ReservedConcurrentExecutions: 1,
    });
    dev.template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 minute)' });
    dev.template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: ['glue:GetJobRun', 'glue:StartJobRun'],
            Resource: Match.stringLikeRegexp(':job/adclick-dev-rewrite-partition$'),
          }),
        ]),
      },
    });
  });
});

describe('the REST API', () => {
  const methods = Object.values(resources).filter((r) => r.Type === 'AWS::ApiGateway::Method');
  const pathOf = (resourceId: unknown): string => {
    const ref = (resourceId as { Ref?: string }).Ref;
    if (!ref) return '';
    const r = resources[ref]!;
    return `${pathOf(r.Properties.ParentId)}/${r.Properties.PathPart}`;
  };
  const methodOf = (method: string, path: string) =>
    methods.find((m) => m.Properties.HttpMethod === method && pathOf(m.Properties.ResourceId) === path);

  it('has a method per route and nothing else', () => {
    expect(methods).toHaveLength(GATEWAY_ROUTES.length);
    for (const route of GATEWAY_ROUTES) expect(methodOf(route.method, route.path), route.path).toBeDefined();
  });

  it.each(GATEWAY_ROUTES.map((r) => [`${r.method} ${r.path}`, r] as const))(
    'authorises %s as its route says',
    (_, route) => {
      const props = methodOf(route.method, route.path)!.Properties;
      if (route.access === 'ad-server')
        expect(props).toMatchObject({ ApiKeyRequired: true, AuthorizationType: 'NONE' });
      else if (route.access === 'admin') expect(props.AuthorizationType).toBe('AWS_IAM');
      else expect(['/health', '/openapi.json']).toContain(route.path);
    },
  );

  it('sends the predict routes to the predict alias and the rest to the API function', () => {
    const target = (method: string, path: string) => JSON.stringify(methodOf(method, path)!.Properties.Integration.Uri);
    expect(target('POST', '/predict')).toContain('PredictFunctionAliaslive');
    expect(target('POST', '/predict/batch')).toContain('PredictFunctionAliaslive');
    expect(target('POST', '/event/click')).toContain('ApiFunction');
  });

  it('validates every required JSON body with a model generated from its zod schema', () => {
    const jsonRoutes = ROUTES.filter((r) => r.body?.kind === 'json' && !r.body.optional);
    expect(jsonRoutes.length).toBeGreaterThan(5);
    for (const route of jsonRoutes) {
      const props = methodOf(route.method, route.path)!.Properties;
      expect(props.RequestValidatorId, route.path).toBeDefined();
      const model = resources[props.RequestModels['application/json'].Ref]!;
      expect(model.Properties).toMatchObject({
        Name: route.operationId,
        ContentType: 'application/json',
        Schema: { $schema: 'http://json-schema.org/draft-04/schema#', type: 'object', additionalProperties: false },
      });
    }
  });

  it("answers API Gateway's own refusals (no key, unknown route, throttled, any 4xx or 5xx) as problem+json", () => {
    // Act
    const responses = Object.values(dev.template.findResources('AWS::ApiGateway::GatewayResponse')) as {
      Properties: {
        ResponseType: string;
        StatusCode?: string;
        ResponseParameters: Record<string, string>;
        ResponseTemplates: Record<string, string>;
      };
    }[];

    // Assess
    const byType = new Map(responses.map((r) => [r.Properties.ResponseType, r.Properties]));
    for (const type of [
      'INVALID_API_KEY',
      'MISSING_AUTHENTICATION_TOKEN',
      'ACCESS_DENIED',
      'BAD_REQUEST_BODY',
      'THROTTLED',
      'DEFAULT_4XX',
      'DEFAULT_5XX',
    ]) {
      expect(byType.has(type), type).toBe(true);
    }
    expect(byType.get('INVALID_API_KEY')?.StatusCode).toBe('403');
    for (const { Properties: r } of responses) {
      expect(r.ResponseParameters['gatewayresponse.header.Content-Type']).toBe("'application/problem+json'");
      // The template is JSON once API Gateway substitutes the quoted message.
      const body = JSON.parse(r.ResponseTemplates['application/json']!.replace('$context.error.messageString', '"m"'));
      expect(body).toMatchObject({ type: 'about:blank', detail: 'm', errors: [] });
    }
  });

  it('throttles, traces and access-logs the stage in JSON, and rate-limits ad servers by usage plan', () => {
    dev.template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'v1',
      TracingEnabled: true,
      AccessLogSetting: { Format: Match.stringLikeRegexp('^\\{"requestId"') },
      MethodSettings: [
        Match.objectLike({
          HttpMethod: '*',
          ResourcePath: '/*',
          ThrottlingRateLimit: STAGES.dev.serving.adServerRateLimit,
          ThrottlingBurstLimit: STAGES.dev.serving.adServerBurstLimit,
          DataTraceEnabled: false,
        }),
      ],
    });
    dev.template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      Throttle: { RateLimit: STAGES.dev.serving.adServerRateLimit, BurstLimit: STAGES.dev.serving.adServerBurstLimit },
    });
    dev.template.resourceCountIs('AWS::ApiGateway::UsagePlanKey', 1);
  });

  it('puts the stage behind a WAF with a per-IP rate rule and the AWS common rules', () => {
    dev.template.hasResourceProperties('AWS::WAFv2::WebACL', {
      Scope: 'REGIONAL',
      Rules: Match.arrayWith([
        Match.objectLike({
          Statement: {
            RateBasedStatement: { Limit: STAGES.dev.serving.wafRequestsPer5MinPerIp, AggregateKeyType: 'IP' },
          },
        }),
        Match.objectLike({
          Statement: { ManagedRuleGroupStatement: Match.objectLike({ Name: 'AWSManagedRulesCommonRuleSet' }) },
        }),
      ]),
    });
    dev.template.hasResourceProperties('AWS::WAFv2::WebACLAssociation', {
      ResourceArn: Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith(['/stages/'])]) }),
    });
  });
});

describe('IAM', () => {
  const statements = Object.values(resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy')
    .flatMap((r) => r.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]);

  it('has no statement with a `*` or service-wide action', () => {
    const actions = statements.flatMap((s) => [s.Action].flat());
    expect(actions.filter((a) => a === '*' || /^[a-z0-9-]+:\*$/.test(a))).toEqual([]);
  });

  it('lets only SageMaker receive the model execution role', () => {
    const passRole = statements.filter((s) => [s.Action].flat().includes('iam:PassRole'));
    expect(passRole.length).toBeGreaterThan(0);
    for (const s of passRole) {
      expect(s).toMatchObject({
        Resource: 'arn:aws:iam::123456789012:role/adclick-dev-sagemaker',
        Condition: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } },
      });
    }
  });
});

describe('the autoscaling grants', () => {
  type Statement = { Action: string | string[]; Resource: unknown; Condition?: unknown };
  /** The statements of the policies attached to a function's role, resources resolved. */
  function statementsOf(functionName: string): Statement[] {
    const [fnId] = Object.entries(resources).find(
      ([, r]) => r.Type === 'AWS::Lambda::Function' && r.Properties.FunctionName === functionName,
    )!;
    const roleId = resources[fnId]!.Properties.Role['Fn::GetAtt'][0] as string;
    return Object.values(resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy' && r.Properties.Roles.some((x: { Ref: string }) => x.Ref === roleId))
      .flatMap((r) => r.Properties.PolicyDocument.Statement as Statement[])
      .map((st) => ({ ...st, Resource: [st.Resource].flat().map(resolvedOrRaw) }));
  }
  /** Other stacks' and this stack's resources stay as the template has them. */
  const resolvedOrRaw = (value: unknown) => {
    try {
      return resolve(value);
    } catch {
      return value;
    }
  };
  const withAction = (sts: Statement[], action: string) => sts.filter((st) => [st.Action].flat().includes(action));

  it.each(['adclick-dev-api', 'adclick-dev-drift-monitor'])(
    'lets %s register, deregister and scale variants, and create only the SageMaker autoscaling service-linked role',
    (fn) => {
      // Act
      const sts = statementsOf(fn);

      // Assess
      for (const action of ['RegisterScalableTarget', 'DeregisterScalableTarget', 'PutScalingPolicy']) {
        expect(withAction(sts, `application-autoscaling:${action}`).map((st) => st.Resource)).toEqual([
          ['arn:aws:application-autoscaling:eu-west-1:123456789012:scalable-target/*'],
        ]);
      }
      expect(withAction(sts, 'cloudwatch:PutMetricAlarm').map((st) => st.Resource)).toEqual([
        ['arn:aws:cloudwatch:eu-west-1:123456789012:alarm:TargetTracking-endpoint/adclick-dev-ctr/variant/*'],
      ]);
      expect(withAction(sts, 'sagemaker:UpdateEndpointWeightsAndCapacities').map((st) => st.Resource)).toEqual([
        ['arn:aws:sagemaker:eu-west-1:123456789012:endpoint/adclick-dev-ctr'],
      ]);
      expect(withAction(sts, 'iam:CreateServiceLinkedRole')).toEqual([
        {
          Effect: 'Allow',
          Action: 'iam:CreateServiceLinkedRole',
          Resource: [
            'arn:aws:iam::123456789012:role/aws-service-role/sagemaker.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint',
          ],
          Condition: { StringEquals: { 'iam:AWSServiceName': 'sagemaker.application-autoscaling.amazonaws.com' } },
        },
      ]);
    },
  );

  it('gives the predict function no autoscaling action', () => {
    // Act
    const actions = statementsOf('adclick-dev-predict').flatMap((st) => [st.Action].flat());

    // Assess
    expect(
      actions.filter((a) => a.startsWith('application-autoscaling:') || a === 'iam:CreateServiceLinkedRole'),
    ).toEqual([]);
  });
});

describe('cdk-nag', () => {
  it.each([
    ['dev', dev],
    ['prod', prod],
  ] as const)('has no unacknowledged finding on the %s serving stack', (stage, built) => {
    // Act
    const findings = nagFindings({ app: built.app } as Parameters<typeof nagFindings>[0]).filter((f) =>
      f.resource.startsWith(`adclick-${stage}-serving/`),
    );

    // Assess
    expect(findings.map((f) => `${f.rule} at ${f.resource}: ${f.description}`)).toEqual([]);
  });
});
