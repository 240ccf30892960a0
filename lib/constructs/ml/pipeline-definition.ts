/**
 * The retraining pipeline's definition (SageMaker Pipelines JSON, version 2020-12-01), generated
 * from the steps `adclick retrain` runs (docs/retraining.md) so that the two cannot drift apart:
 * build the training set and the holdout → train → evaluate candidate and champion on that holdout
 * and apply the gate → condition → register (as challenger when the gate passed, as a plain
 * candidate otherwise, as `adclick retrain` does).
 *
 * A pure function of its input: the CDK construct passes tokens (image URI, role ARN, bucket) and
 * serialises the result with `Stack.toJsonString`; the tests parse it back.
 */

/** The step names, in execution order (the condition step holds the two register steps). */
export const PIPELINE_STEPS = ['BuildTrainingSet', 'Train', 'Evaluate', 'Gate'] as const;
export const REGISTER_STEPS = { passed: 'RegisterChallenger', refused: 'RegisterCandidate' } as const;

/** The gate report (lambdas/pipeline/steps/gate.ts's `gate.json`) as the condition step reads it. */
export const GATE_PROPERTY_FILE = 'GateReport';
export const GATE_FILE = 'gate.json';

/** The build step's report (lambdas/pipeline/steps/aws-steps.ts's `datasets.json`): the Train step reads it. */
export const DATASETS_PROPERTY_FILE = 'Datasets';
export const DATASETS_FILE = 'datasets.json';

/** The calibration band of lambdas/core/usecases/gate.ts (GATE_CALIBRATION_BAND), restated as pipeline literals. */
export const PIPELINE_CALIBRATION_BAND = [0.9, 1.1] as const;

/**
 * Every step runs an entry point of this repository in the model image (WORKDIR /opt/program), the
 * same files `adclick retrain` imports; the training step runs the container's own `train`.
 */
const TSX = ['node', '--import', 'tsx'];
export const STEP_ENTRY_POINTS = {
  build: [...TSX, 'lambdas/pipeline/steps/build-datasets.ts'],
  evaluate: [...TSX, 'lambdas/pipeline/steps/evaluate.ts'],
  gate: [...TSX, 'lambdas/pipeline/steps/gate.ts'],
  register: [...TSX, 'lambdas/pipeline/steps/register.ts'],
} as const;

export interface RetrainPipelineInput {
  /** The model image (ECR URI with tag): processing steps and the training job run it. */
  readonly imageUri: string;
  /** The role the jobs run as (not the pipeline's own role). */
  readonly jobRoleArn: string;
  /** Where every execution writes its data sets, models and reports (`pipeline/<execution id>/…`). */
  readonly modelBucketName: string;
  /** Encrypts job volumes and outputs. */
  readonly kmsKeyArn: string;
  readonly athenaWorkgroup: string;
  readonly glueDatabase: string;
  /** The registry's DynamoDB table (register step). */
  readonly modelsTableName: string;
  /** The champion when the registry has none yet: the endpoint's bootstrap artifact. */
  readonly bootstrapArtifactUri: string;
  readonly trainingInstanceType: string;
  readonly processingInstanceType: string;
  /** @default 4 hours: a training set of the full-scale stage streams for long. */
  readonly maxRuntimeSeconds?: number;
  /** @default 50 */
  readonly volumeSizeGb?: number;
}

/** The pipeline parameters: what `adclick retrain`'s flags of the same meaning take. */
export const PIPELINE_PARAMETERS = [
  // Empty: derived as `adclick retrain` derives them (docs/retraining.md "Windows") from the start time.
  { Name: 'TrainFrom', Type: 'String', DefaultValue: '' },
  { Name: 'TrainTo', Type: 'String', DefaultValue: '' },
  { Name: 'HoldoutHours', Type: 'Integer', DefaultValue: 0 },
  { Name: 'NegativeSamplingRate', Type: 'Float', DefaultValue: 1.0 },
  // 'fresh' or 'warm' (docs/retraining.md "Warm start or fresh": fresh is the default).
  { Name: 'WarmStart', Type: 'String', DefaultValue: 'fresh' },
] as const;

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

const get = (path: string): Json => ({ Get: path });
/** Pipeline values inside a job's string arguments must be strings: joined, as the Python SDK does. */
const str = (...values: Json[]): Json => ({ 'Std:Join': { On: '', Values: values } });
const param = (name: (typeof PIPELINE_PARAMETERS)[number]['Name']) => get(`Parameters.${name}`);
const executionPrefix = (bucket: string, leaf: string) =>
  str(`s3://${bucket}/pipeline/`, get('Execution.PipelineExecutionId'), `/${leaf}`);
const processingOutput = (step: string, output: string) =>
  get(`Steps.${step}.ProcessingOutputConfig.Outputs['${output}'].S3Output.S3Uri`);

const LOCAL = '/opt/ml/processing';

function processingJob(
  input: RetrainPipelineInput,
  app: { entrypoint: readonly string[]; args: Json[] },
  io: {
    inputs: { name: string; uri: Json }[];
    outputs: { name: string; leaf: string }[];
    environment?: Record<string, string>;
  },
): Record<string, Json> {
  return {
    ProcessingResources: {
      ClusterConfig: {
        InstanceCount: 1,
        InstanceType: input.processingInstanceType,
        VolumeSizeInGB: input.volumeSizeGb ?? 50,
        VolumeKmsKeyId: input.kmsKeyArn,
      },
    },
    AppSpecification: {
      ImageUri: input.imageUri,
      ContainerEntrypoint: [...app.entrypoint],
      ContainerArguments: app.args,
    },
    RoleArn: input.jobRoleArn,
    ProcessingInputs: io.inputs.map((i) => ({
      InputName: i.name,
      AppManaged: false,
      S3Input: {
        S3Uri: i.uri,
        LocalPath: `${LOCAL}/input/${i.name}`,
        S3DataType: 'S3Prefix',
        S3InputMode: 'File',
        S3DataDistributionType: 'FullyReplicated',
      },
    })),
    ProcessingOutputConfig: {
      KmsKeyId: input.kmsKeyArn,
      Outputs: io.outputs.map((o) => ({
        OutputName: o.name,
        AppManaged: false,
        S3Output: {
          S3Uri: executionPrefix(input.modelBucketName, o.leaf),
          LocalPath: `${LOCAL}/output/${o.name}`,
          S3UploadMode: 'EndOfJob',
        },
      })),
    },
    Environment: { AWS_STS_REGIONAL_ENDPOINTS: 'regional', ...io.environment },
    StoppingCondition: { MaxRuntimeInSeconds: input.maxRuntimeSeconds ?? 4 * 3600 },
  };
}

function registerStep(input: RetrainPipelineInput, name: string, challenger: boolean): Record<string, Json> {
  return {
    Name: name,
    Type: 'Processing',
    Arguments: processingJob(
      input,
      {
        entrypoint: STEP_ENTRY_POINTS.register,
        args: [
          '--model',
          `${LOCAL}/input/model`,
          '--gate',
          `${LOCAL}/input/gate/${GATE_FILE}`,
          // The windows, rows and champion the registry's metadata records, as `adclick retrain` does.
          '--datasets',
          `${LOCAL}/input/datasets/${DATASETS_FILE}`,
          ...(challenger ? ['--challenger'] : []),
        ],
      },
      {
        inputs: [
          { name: 'model', uri: get('Steps.Train.ModelArtifacts.S3ModelArtifacts') },
          { name: 'gate', uri: processingOutput('Evaluate', 'gate') },
          { name: 'datasets', uri: processingOutput('BuildTrainingSet', 'datasets') },
        ],
        outputs: [],
        environment: { ADCLICK_MODEL_BUCKET: input.modelBucketName, ADCLICK_MODELS_TABLE: input.modelsTableName },
      },
    ),
  };
}

/** The SageMaker Pipelines definition of the daily retraining. */
export function retrainPipelineDefinition(input: RetrainPipelineInput): Record<string, Json> {
  const build = {
    Name: 'BuildTrainingSet',
    Type: 'Processing',
    Arguments: processingJob(
      input,
      {
        entrypoint: STEP_ENTRY_POINTS.build,
        args: [
          '--athena',
          '--from',
          param('TrainFrom'),
          '--to',
          param('TrainTo'),
          '--holdout-hours',
          str(param('HoldoutHours')),
          '--negative-rate',
          str(param('NegativeSamplingRate')),
          '--warm-start',
          param('WarmStart'),
          '--cutoff',
          str(get('Execution.StartDateTime')),
          '--out',
          `${LOCAL}/output`,
        ],
      },
      {
        inputs: [],
        // The champion's artifact comes out too: evaluate scores it, a warm start continues from it.
        outputs: [
          { name: 'train', leaf: 'train' },
          { name: 'holdout', leaf: 'holdout' },
          { name: 'champion', leaf: 'champion' },
          { name: 'datasets', leaf: 'datasets' },
        ],
        environment: {
          ADCLICK_ATHENA_WORKGROUP: input.athenaWorkgroup,
          ADCLICK_ATHENA_DATABASE: input.glueDatabase,
          ADCLICK_MODEL_BUCKET: input.modelBucketName,
          ADCLICK_MODELS_TABLE: input.modelsTableName,
          ADCLICK_BOOTSTRAP_ARTIFACT_URI: input.bootstrapArtifactUri,
        },
      },
    ),
    PropertyFiles: [{ PropertyFileName: DATASETS_PROPERTY_FILE, OutputName: 'datasets', FilePath: DATASETS_FILE }],
  };
  const datasets = (path: string): Json => ({
    'Std:JsonGet': { PropertyFile: get(`Steps.BuildTrainingSet.PropertyFiles.${DATASETS_PROPERTY_FILE}`), Path: path },
  });
  const train = {
    Name: 'Train',
    Type: 'Training',
    Arguments: {
      AlgorithmSpecification: { TrainingImage: input.imageUri, TrainingInputMode: 'File' },
      RoleArn: input.jobRoleArn,
      InputDataConfig: [
        { name: 'train', output: 'train', type: 'text/csv' },
        { name: 'warm-start', output: 'champion', type: 'application/x-tar' },
      ].map((c) => ({
        ChannelName: c.name,
        ContentType: c.type,
        DataSource: {
          S3DataSource: {
            S3DataType: 'S3Prefix',
            S3Uri: processingOutput('BuildTrainingSet', c.output),
            S3DataDistributionType: 'FullyReplicated',
          },
        },
      })),
      // SageMaker passes every hyperparameter as a string; the container parses and range-checks them.
      HyperParameters: {
        'data-negative-rate': str(param('NegativeSamplingRate')),
        'warm-start': param('WarmStart'),
        // The csv's string columns (numeric-looking strings stay strings, as the scorer sees them online).
        categorical: datasets('training.categorical'),
      },
      OutputDataConfig: { S3OutputPath: executionPrefix(input.modelBucketName, 'model'), KmsKeyId: input.kmsKeyArn },
      ResourceConfig: {
        InstanceCount: 1,
        InstanceType: input.trainingInstanceType,
        VolumeSizeInGB: input.volumeSizeGb ?? 50,
        VolumeKmsKeyId: input.kmsKeyArn,
      },
      StoppingCondition: { MaxRuntimeInSeconds: input.maxRuntimeSeconds ?? 4 * 3600 },
      // Training reads its channels and writes the model: it needs no network at all.
      EnableNetworkIsolation: true,
    },
  };
  const evaluate = {
    Name: 'Evaluate',
    Type: 'Processing',
    Arguments: processingJob(
      input,
      {
        // evaluate.ts then gate.ts, the two entry points `adclick retrain` calls, in one job.
        entrypoint: ['sh', '-c'],
        args: [
          [
            `${STEP_ENTRY_POINTS.evaluate.join(' ')} --holdout ${LOCAL}/input/holdout/holdout.jsonl --candidate ${LOCAL}/input/candidate --champion ${LOCAL}/input/champion --out ${LOCAL}/output/gate/evaluation.json`,
            `${STEP_ENTRY_POINTS.gate.join(' ')} --evaluation ${LOCAL}/output/gate/evaluation.json --out ${LOCAL}/output/gate/${GATE_FILE}`,
          ].join(' && '),
        ],
      },
      {
        inputs: [
          { name: 'holdout', uri: processingOutput('BuildTrainingSet', 'holdout') },
          { name: 'candidate', uri: get('Steps.Train.ModelArtifacts.S3ModelArtifacts') },
          { name: 'champion', uri: processingOutput('BuildTrainingSet', 'champion') },
        ],
        outputs: [{ name: 'gate', leaf: 'gate' }],
      },
    ),
    PropertyFiles: [{ PropertyFileName: GATE_PROPERTY_FILE, OutputName: 'gate', FilePath: GATE_FILE }],
  };
  const report = (path: string): Json => ({
    'Std:JsonGet': { PropertyFile: get(`Steps.Evaluate.PropertyFiles.${GATE_PROPERTY_FILE}`), Path: path },
  });
  const [low, high] = PIPELINE_CALIBRATION_BAND;
  const gate = {
    Name: 'Gate',
    Type: 'Condition',
    Arguments: {
      // All must hold. `passed` is gate.ts's whole verdict (segments included); the comparisons
      // restate its headline rule in the pipeline so an execution's graph shows why it branched.
      Conditions: [
        { Type: 'Equals', LeftValue: report('passed'), RightValue: true },
        { Type: 'LessThan', LeftValue: report('candidate.logloss'), RightValue: report('champion.logloss') },
        { Type: 'GreaterThanOrEqualTo', LeftValue: report('candidate.calibration'), RightValue: low },
        { Type: 'LessThanOrEqualTo', LeftValue: report('candidate.calibration'), RightValue: high },
      ],
      IfSteps: [registerStep(input, REGISTER_STEPS.passed, true)],
      ElseSteps: [registerStep(input, REGISTER_STEPS.refused, false)],
    },
  };
  return {
    Version: '2020-12-01',
    Metadata: {},
    Parameters: PIPELINE_PARAMETERS.map((p) => ({ ...p })),
    Steps: [build, train, evaluate, gate],
  };
}
