import { ArnFormat, Resource, Stack, TimeZone } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import type { Construct } from 'constructs';
import { Construct as BaseConstruct } from 'constructs';
import { acknowledgeWildcards } from './acknowledge-wildcards.js';
import { type RetrainPipelineInput, retrainPipelineDefinition } from './pipeline-definition.js';

export interface RetrainPipelineProps
  extends Omit<RetrainPipelineInput, 'jobRoleArn' | 'modelBucketName' | 'kmsKeyArn'> {
  /** `${prefix}-retrain`: the name operators start it by. */
  readonly pipelineName: string;
  /** The role the pipeline's jobs run as: its grants are the steps' (see the ML stack). */
  readonly jobRole: iam.IRole;
  readonly modelBucket: s3.IBucket;
  readonly key: kms.IKey;
  /** Daily start (UTC). */
  readonly cron: { readonly minute: string; readonly hour: string };
}

/** The CfnPipeline as the scheduler target's IPipeline (aws-sagemaker has no L2 pipeline). */
class PipelineRef extends Resource implements sagemaker.IPipeline {
  readonly pipelineArn: string;
  readonly pipelineRef: { readonly pipelineName: string };

  constructor(
    scope: Construct,
    id: string,
    readonly pipelineName: string,
  ) {
    super(scope, id);
    this.pipelineRef = { pipelineName };
    this.pipelineArn = Stack.of(this).formatArn({
      service: 'sagemaker',
      resource: 'pipeline',
      resourceName: pipelineName,
    });
  }

  grantStartPipelineExecution(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['sagemaker:StartPipelineExecution'],
      resourceArns: [this.pipelineArn],
    });
  }
}

/**
 * The daily retraining: a SageMaker Pipeline whose definition is generated from `adclick
 * retrain`'s steps (pipeline-definition.ts), its own role (start and watch the jobs, pass the job
 * role, read the gate report), and an EventBridge Scheduler schedule that starts it.
 */
export class RetrainPipeline extends BaseConstruct {
  readonly pipeline: sagemaker.CfnPipeline;
  readonly role: iam.Role;
  readonly schedule: scheduler.Schedule;
  readonly pipelineName: string;

  constructor(scope: Construct, id: string, props: RetrainPipelineProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.pipelineName = props.pipelineName;
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com'),
      description: `Runs the ${props.pipelineName} pipeline: starts its jobs as the job role`,
    });
    const jobArn = (type: string) =>
      stack.formatArn({
        service: 'sagemaker',
        resource: type,
        resourceName: 'pipelines-*',
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      });
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: [
          'sagemaker:CreateProcessingJob',
          'sagemaker:DescribeProcessingJob',
          'sagemaker:StopProcessingJob',
          'sagemaker:CreateTrainingJob',
          'sagemaker:DescribeTrainingJob',
          'sagemaker:StopTrainingJob',
          'sagemaker:AddTags',
        ],
        resources: [jobArn('processing-job'), jobArn('training-job')],
      }),
    );
    props.jobRole.grantPassRole(this.role);
    // The condition step reads gate.json from the execution's output, as the pipeline's role.
    props.modelBucket.grantRead(this.role, 'pipeline/*');
    props.key.grantDecrypt(this.role);
    acknowledgeWildcards(this.role, [
      {
        finding: /^Resource::arn:(?:<AWS::Partition>|aws[a-z-]*):sagemaker:.*:(processing|training)-job\/pipelines-\*$/,
        reason:
          'SageMaker names a pipeline\'s jobs "pipelines-<execution id>-<step>-…" when the execution starts: only that prefix is known.',
      },
      {
        finding: /^Action::s3:(GetObject|GetBucket|List)\*$/,
        reason: "The action groups of grantRead, on the model bucket's pipeline/ prefix only.",
      },
      {
        finding: /^Resource::.*\/pipeline\/\*$/,
        reason: 'Each execution writes its gate report under pipeline/<execution id>/, an id made when it starts.',
      },
    ]);

    const definition = retrainPipelineDefinition({
      ...props,
      jobRoleArn: props.jobRole.roleArn,
      modelBucketName: props.modelBucket.bucketName,
      kmsKeyArn: props.key.keyArn,
    });
    this.pipeline = new sagemaker.CfnPipeline(this, 'Pipeline', {
      pipelineName: props.pipelineName,
      pipelineDisplayName: props.pipelineName,
      pipelineDescription: 'adclick retrain: build the training set on Athena, train, evaluate, gate, register',
      roleArn: this.role.roleArn,
      pipelineDefinition: { PipelineDefinitionBody: stack.toJsonString(definition) },
    });
    const policy = this.role.node.tryFindChild('DefaultPolicy');
    if (policy) this.pipeline.node.addDependency(policy);

    const ref = new PipelineRef(this, 'Ref', props.pipelineName);
    ref.node.addDependency(this.pipeline);
    this.schedule = new scheduler.Schedule(this, 'Daily', {
      description: `Starts ${props.pipelineName} daily with its default parameters (fresh training, derived windows)`,
      schedule: scheduler.ScheduleExpression.cron({
        minute: props.cron.minute,
        hour: props.cron.hour,
        timeZone: TimeZone.ETC_UTC,
      }),
      target: new schedulerTargets.SageMakerStartPipelineExecution(ref),
    });
  }
}
