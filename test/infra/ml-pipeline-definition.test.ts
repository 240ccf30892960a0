/**
 * The retraining pipeline's definition as a pure function (lib/constructs/ml/pipeline-definition.ts):
 * each step reads what the step before it wrote, every job runs as the job role with its volumes
 * and outputs under the KMS key, and the pipeline's parameters reach the steps that use them.
 * Plus the wildcard acknowledgement helper: an unexplained wildcard stays a cdk-nag finding.
 */
import { App, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { acknowledgeWildcards } from '../../lib/constructs/ml/acknowledge-wildcards.js';
import { retrainPipelineDefinition, STEP_ENTRY_POINTS } from '../../lib/constructs/ml/pipeline-definition.js';

const input = {
  imageUri: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/model:abc',
  jobRoleArn: 'arn:aws:iam::123456789012:role/job',
  modelBucketName: 'models',
  kmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/k',
  athenaWorkgroup: 'wg',
  glueDatabase: 'lake',
  modelsTableName: 'adclick-dev-models',
  bootstrapArtifactUri: 's3://assets/bootstrap.tar.gz',
  trainingInstanceType: 'ml.m5.xlarge',
  processingInstanceType: 'ml.m5.large',
};

// biome-ignore lint/suspicious/noExplicitAny: the definition is JSON read by path
const definition = retrainPipelineDefinition(input) as any;
const step = (name: string) =>
  [...definition.Steps, ...definition.Steps[3].Arguments.IfSteps, ...definition.Steps[3].Arguments.ElseSteps].find(
    (s: { Name: string }) => s.Name === name,
  );
const output = (stepName: string, name: string) => ({
  Get: `Steps.${stepName}.ProcessingOutputConfig.Outputs['${name}'].S3Output.S3Uri`,
});
const inputsOf = (s: { Arguments: { ProcessingInputs: { InputName: string; S3Input: { S3Uri: unknown } }[] } }) =>
  Object.fromEntries(s.Arguments.ProcessingInputs.map((i) => [i.InputName, i.S3Input.S3Uri]));

describe('the retraining pipeline definition', () => {
  it('trains on the training set the build step wrote, with the champion as the warm-start channel', () => {
    // Act
    const channels = step('Train').Arguments.InputDataConfig;

    // Assess
    expect(
      channels.map((c: { ChannelName: string; DataSource: { S3DataSource: { S3Uri: unknown } } }) => [
        c.ChannelName,
        c.DataSource.S3DataSource.S3Uri,
      ]),
    ).toEqual([
      ['train', output('BuildTrainingSet', 'train')],
      ['warm-start', output('BuildTrainingSet', 'champion')],
    ]);
    expect(step('Train').Arguments.EnableNetworkIsolation).toBe(true);
  });

  it("evaluates the trained candidate and the champion on the build step's holdout", () => {
    // Assess
    expect(inputsOf(step('Evaluate'))).toEqual({
      holdout: output('BuildTrainingSet', 'holdout'),
      candidate: { Get: 'Steps.Train.ModelArtifacts.S3ModelArtifacts' },
      champion: output('BuildTrainingSet', 'champion'),
    });
    const script = step('Evaluate').Arguments.AppSpecification.ContainerArguments[0] as string;
    expect(script).toContain(STEP_ENTRY_POINTS.evaluate.join(' '));
    expect(script).toContain(`${STEP_ENTRY_POINTS.gate.join(' ')} --evaluation`);
  });

  it('registers the candidate with the gate report, naming it challenger only on the passing branch', () => {
    // Assess
    for (const name of ['RegisterChallenger', 'RegisterCandidate']) {
      expect(inputsOf(step(name))).toEqual({
        model: { Get: 'Steps.Train.ModelArtifacts.S3ModelArtifacts' },
        gate: output('Evaluate', 'gate'),
        datasets: output('BuildTrainingSet', 'datasets'),
      });
      expect(step(name).Arguments.AppSpecification.ContainerArguments).toContain('--datasets');
    }
    expect(step('RegisterChallenger').Arguments.AppSpecification.ContainerArguments).toContain('--challenger');
    expect(step('RegisterCandidate').Arguments.AppSpecification.ContainerArguments).not.toContain('--challenger');
  });

  it('runs every job as the job role in the model image, volumes and outputs under the KMS key', () => {
    // Assess
    for (const name of ['BuildTrainingSet', 'Evaluate', 'RegisterChallenger', 'RegisterCandidate']) {
      const args = step(name).Arguments;
      expect(args.RoleArn).toBe(input.jobRoleArn);
      expect(args.AppSpecification.ImageUri).toBe(input.imageUri);
      expect(args.ProcessingResources.ClusterConfig.VolumeKmsKeyId).toBe(input.kmsKeyArn);
      expect(args.ProcessingOutputConfig.KmsKeyId).toBe(input.kmsKeyArn);
    }
    const train = step('Train').Arguments;
    expect([train.RoleArn, train.AlgorithmSpecification.TrainingImage]).toEqual([input.jobRoleArn, input.imageUri]);
    expect([train.OutputDataConfig.KmsKeyId, train.ResourceConfig.VolumeKmsKeyId]).toEqual([
      input.kmsKeyArn,
      input.kmsKeyArn,
    ]);
  });

  it('passes the window, sampling rate and warm start parameters to the build step', () => {
    // Act
    const args = JSON.stringify(step('BuildTrainingSet').Arguments.AppSpecification.ContainerArguments);

    // Assess
    for (const name of ['TrainFrom', 'TrainTo', 'HoldoutHours', 'NegativeSamplingRate', 'WarmStart']) {
      expect(args).toContain(`Parameters.${name}`);
    }
    expect(step('BuildTrainingSet').Arguments.Environment).toMatchObject({
      ADCLICK_ATHENA_WORKGROUP: 'wg',
      ADCLICK_ATHENA_DATABASE: 'lake',
      ADCLICK_BOOTSTRAP_ARTIFACT_URI: input.bootstrapArtifactUri,
    });
  });
});

describe('the retraining pipeline definition and the step entry points', () => {
  it("passes the training job the csv's string columns from the build step's datasets.json", () => {
    // Assess
    expect(step('BuildTrainingSet').PropertyFiles).toEqual([
      { PropertyFileName: 'Datasets', OutputName: 'datasets', FilePath: 'datasets.json' },
    ]);
    expect(step('Train').Arguments.HyperParameters.categorical).toEqual({
      'Std:JsonGet': {
        PropertyFile: { Get: 'Steps.BuildTrainingSet.PropertyFiles.Datasets' },
        Path: 'training.categorical',
      },
    });
  });

  it('passes the build step only flags its command line takes', async () => {
    // Prepare: build-datasets.ts's parseArgs options, read from its source.
    const { readFile } = await import('node:fs/promises');
    const source = await readFile(STEP_ENTRY_POINTS.build.at(-1)!, 'utf8');
    const args = step('BuildTrainingSet').Arguments.AppSpecification.ContainerArguments as unknown[];

    // Act
    const flags = args.filter((a): a is string => typeof a === 'string' && a.startsWith('--')).map((a) => a.slice(2));

    // Assess
    for (const flag of flags) expect(source, flag).toMatch(new RegExp(`['\\s]${flag}'?: \\{ type:`));
  });
});

describe('acknowledging wildcards', () => {
  it('acknowledges the explained wildcards of a role and leaves any other one a finding', () => {
    // Prepare
    const app = new App();
    const stack = new Stack(app, 'scratch');
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com') });
    role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::b/explained/*'] }));
    role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::b/other/*'] }));

    // Act
    acknowledgeWildcards(role, [{ finding: /^Resource::.*\/explained\/\*$/, reason: 'explained' }]);
    const rules = new AwsSolutionsChecks()
      .validateScope(app)
      .violations.filter((v) => v.ruleName.startsWith('AwsSolutions-IAM5'))
      .map((v) => v.ruleName);

    // Assess
    expect(rules).toEqual(['AwsSolutions-IAM5[Resource::arn:aws:s3:::b/other/*]']);
  });
});
