/**
 * MlStack on its own, over stand-ins for the data and state stacks: the endpoint the runtime
 * calls (name, champion variant, instances per stage, KMS, autoscaling), the model image's build
 * context, the retraining pipeline as synthesized (steps in order, the gate's condition), its
 * daily schedule, least-privilege roles, and no unacknowledged cdk-nag finding.
 */
import { readFileSync } from 'node:fs';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { productionVariantName } from '../../lambdas/adapters/aws/sagemaker/variant-name.js';
import { STAGES, type StageName } from '../../lib/config.js';
import { BOOTSTRAP_MODEL_ID } from '../../lib/constructs/ml/model-endpoint.js';
import { MODEL_IMAGE_CONTEXT, platformOf } from '../../lib/constructs/ml/model-image.js';
import { MlStack } from '../../lib/stacks/ml-stack.js';
import { nagFindings, type SynthesizedStage, synthStage } from './support/synth.js';
import { fakeData, fakeState, upstreamStack } from './support/upstream.js';

function buildMl(stage: StageName) {
  const { app, stack } = upstreamStack();
  const config = STAGES[stage];
  const ml = new MlStack(app, `${config.prefix}-ml`, {
    config,
    data: fakeData(stack, config.prefix),
    state: fakeState(stack, config.prefix),
    env: { account: stack.account, region: stack.region },
  });
  return { app, ml, template: Template.fromStack(ml) };
}

const built = { dev: buildMl('dev'), prod: buildMl('prod') };
const stages = ['dev', 'prod'] as const;

type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown };
const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);

/** The statements of the policies attached to the role whose logical id starts with `rolePrefix`. */
function statementsOf(template: Template, rolePrefix: string): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy');
  return Object.values(policies)
    .filter((p) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref.startsWith(rolePrefix)))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

/** The pipeline definition as SageMaker receives it, references replaced by a marker. */
// biome-ignore lint/suspicious/noExplicitAny: JSON read by path, as SageMaker reads it
function pipelineDefinition(template: Template): { Parameters: { Name: string }[]; Steps: any[] } {
  const [pipeline] = Object.values(template.findResources('AWS::SageMaker::Pipeline'));
  const body = pipeline!.Properties.PipelineDefinition.PipelineDefinitionBody;
  const text =
    typeof body === 'string'
      ? body
      : (body['Fn::Join'][1] as unknown[]).map((part) => (typeof part === 'string' ? part : '«ref»')).join('');
  return JSON.parse(text);
}

describe.each(stages)('the %s model endpoint', (stage) => {
  const { template } = built[stage];
  const config = STAGES[stage];

  it('is named for the runtime and keeps variant properties the runtime or autoscaling set', () => {
    // Assess
    template.hasResourceProperties('AWS::SageMaker::Endpoint', {
      EndpointName: `${config.prefix}-ctr`,
      RetainAllVariantProperties: true,
    });
  });

  it("serves the bootstrap model on a variant named as the runtime names a model's, with the stage's instances and a KMS key", () => {
    // Assess
    template.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      KmsKeyId: Match.stringLikeRegexp('^arn:aws:kms:'),
      ProductionVariants: [
        {
          VariantName: productionVariantName(BOOTSTRAP_MODEL_ID),
          InstanceType: config.model.instanceType,
          InitialInstanceCount: config.model.initialInstanceCount,
          InitialVariantWeight: 1,
          ModelName: Match.anyValue(),
        },
      ],
    });
    template.hasResourceProperties('AWS::SageMaker::Model', { EnableNetworkIsolation: true });
  });

  it('registers no scalable target: the runtime owns the variants and their autoscaling', () => {
    // Assess: a deploy must never re-register a target on a variant the runtime has dropped
    template.resourceCountIs('AWS::ApplicationAutoScaling::ScalableTarget', 0);
    template.resourceCountIs('AWS::ApplicationAutoScaling::ScalingPolicy', 0);
  });

  it('starts the retraining pipeline daily at the configured UTC time', () => {
    // Assess
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: `cron(${config.model.retrainCron.minute} ${config.model.retrainCron.hour} * * ? *)`,
      ScheduleExpressionTimezone: 'Etc/UTC',
    });
    const [schedule] = Object.values(template.findResources('AWS::Scheduler::Schedule'));
    expect(JSON.stringify(schedule!.Properties.Target.Arn)).toContain(`:pipeline/${config.prefix}-retrain`);
  });

  it('has no unacknowledged cdk-nag finding on its own', () => {
    // Act
    const findings = nagFindings({ app: built[stage].app } as SynthesizedStage).filter((f) =>
      f.resource.startsWith(`${config.prefix}-ml/`),
    );

    // Assess
    expect(findings.map((f) => `${f.rule} at ${f.resource}`)).toEqual([]);
  });
});

describe('production sizing', () => {
  it('runs at least two instances in prod, so one AZ can fail', () => {
    // Assess
    expect(STAGES.prod.model.initialInstanceCount).toBeGreaterThanOrEqual(2);
    built.prod.template.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      ProductionVariants: [Match.objectLike({ InitialInstanceCount: STAGES.prod.model.initialInstanceCount })],
    });
  });
});

describe('the model image', () => {
  it('stages exactly what the Dockerfile copies as the build context', () => {
    // Prepare
    const dockerfile = readFileSync('sagemaker/container/Dockerfile', 'utf8');
    const copied = [...dockerfile.matchAll(/^COPY\s+(.+)\s+\S+$/gm)].flatMap((m) => m[1]!.trim().split(/\s+/));

    // Assess
    expect([...MODEL_IMAGE_CONTEXT].sort()).toEqual([...new Set(copied)].sort());
  });

  it('is built for arm64 where hosting runs on Graviton and amd64 for the jobs', () => {
    // Assess
    expect(platformOf('ml.c6g.large').platform).toBe('linux/arm64');
    expect(platformOf('ml.m5.xlarge').platform).toBe('linux/amd64');
  });
});

describe('the retraining pipeline as synthesized', () => {
  const definition = pipelineDefinition(built.dev.template);

  it("runs adclick retrain's steps in order, registering on both branches of the gate", () => {
    // Assess
    expect(definition.Steps.map((s) => `${s.Name}:${s.Type}`)).toEqual([
      'BuildTrainingSet:Processing',
      'Train:Training',
      'Evaluate:Processing',
      'Gate:Condition',
    ]);
    const gate = definition.Steps[3]!;
    expect(gate.Arguments.IfSteps.map((s: { Name: string }) => s.Name)).toEqual(['RegisterChallenger']);
    expect(gate.Arguments.ElseSteps.map((s: { Name: string }) => s.Name)).toEqual(['RegisterCandidate']);
  });

  it("branches on the gate report: passed, a lower log loss than the champion's, calibration in the band", () => {
    // Assess
    type Operand = { 'Std:JsonGet'?: { Path: string } } | number | boolean;
    const conditions = definition.Steps[3]!.Arguments.Conditions as {
      Type: string;
      LeftValue: Operand;
      RightValue: Operand;
    }[];
    const path = (v: Operand) => (typeof v === 'object' ? v['Std:JsonGet']?.Path : v);
    expect(conditions.map((c) => [c.Type, path(c.LeftValue), path(c.RightValue)])).toEqual([
      ['Equals', 'passed', true],
      ['LessThan', 'candidate.logloss', 'champion.logloss'],
      ['GreaterThanOrEqualTo', 'candidate.calibration', 0.9],
      ['LessThanOrEqualTo', 'candidate.calibration', 1.1],
    ]);
    expect(definition.Steps[2]!.PropertyFiles).toEqual([
      { PropertyFileName: 'GateReport', OutputName: 'gate', FilePath: 'gate.json' },
    ]);
  });

  it('takes the time window, sampling rate and warm start as parameters', () => {
    // Assess
    expect(definition.Parameters.map((p) => p.Name)).toEqual([
      'TrainFrom',
      'TrainTo',
      'HoldoutHours',
      'NegativeSamplingRate',
      'WarmStart',
    ]);
  });
});

describe('least privilege', () => {
  const { template } = built.prod;

  it('grants no action "*" and no service-wide action anywhere', () => {
    // Assess
    const all = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (p) => p.Properties.PolicyDocument.Statement as Statement[],
    );
    expect(all.flatMap(actionsOf).filter((a) => a === '*' || /^[a-z0-9-]+:\*$/.test(a))).toEqual([]);
  });

  it('lets the endpoint role only read artifacts, pull the image and write its telemetry', () => {
    // Assess
    const actions = new Set(statementsOf(template, 'ExecutionRole').flatMap(actionsOf));
    expect([...actions].filter((a) => /^s3:(Put|Delete|Abort)|^dynamodb:|^sagemaker:|^iam:/.test(a))).toEqual([]);
    expect(actions).toContain('ecr:BatchGetImage');
    expect(actions).toContain('s3:GetObject*');
    expect(actions).toContain('logs:PutLogEvents');
  });

  it('lets the pipeline role start only its own jobs and pass only the job role', () => {
    // Assess
    const statements = statementsOf(template, 'RetrainRole');
    const sagemaker = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('sagemaker:')));
    for (const s of sagemaker) {
      expect(JSON.stringify(s.Resource)).toMatch(/(processing|training)-job\/pipelines-\*/);
    }
    const passRole = statements.filter((s) => actionsOf(s).includes('iam:PassRole'));
    expect(passRole).toHaveLength(1);
    expect(JSON.stringify(passRole[0]!.Resource)).toContain('JobRole');
  });
});

describe('the whole app', () => {
  it.each(stages)('%s: cdk-nag has no unacknowledged finding on the ML stack', (stage) => {
    // Act
    const findings = nagFindings(synthStage(stage)).filter((f) => f.resource.startsWith(`adclick-${stage}-ml/`));

    // Assess
    expect(findings.map((f) => `${f.rule} at ${f.resource}`)).toEqual([]);
  });
});
