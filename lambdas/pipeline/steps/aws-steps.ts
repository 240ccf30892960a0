/**
 * The AWS composition of the pipeline's build and register steps (their `--athena` and registry
 * modes): SDK clients from the job role's credentials, names from the environment the pipeline
 * definition sets (lib/constructs/ml/pipeline-definition.ts). Loaded only in those modes, so the
 * local CLIs never load the SDK.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AthenaClient } from '@aws-sdk/client-athena';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { modelFolder } from '../../../sagemaker/model/model-location.js';
import { AthenaQueryRunner } from '../../adapters/aws/athena/athena-query-runner.js';
import { DynamoModelRegistry } from '../../adapters/aws/dynamodb/model-registry.js';
import { downloadObject } from '../../adapters/aws/s3/download.js';
import { PRESIGNING_S3_CLIENT_OPTIONS, S3ArtifactStore } from '../../adapters/aws/s3/s3-artifact-store.js';
import { parseS3Uri } from '../../adapters/aws/s3/s3-uri.js';
import { systemClock, TimeOrderedIds } from '../../adapters/local/ids.js';
import { DEFAULT_MAX_ARTIFACT_BYTES } from '../../adapters/shared/model-artifact.js';
import { DEFAULT_ATTRIBUTION_WINDOW_SECONDS } from '../../core/lake/attribution.js';
import type { GateReport, ModelRecord } from '../../core/schemas/models.js';
import { RetrainError, retrainWindows } from '../retrain-windows.js';
import { afterChampion, warmStartUnusable } from '../warm-start-window.js';
import { buildDatasetsOnAthena, DEFAULT_MIN_ROWS } from './datasets.js';
import { type DatasetsReport, readJson, registerDirect } from './register-direct.js';

/** A build is a batch job: its Athena query may run for as long as the processing job does. */
const BUILD_QUERY_BUDGET_MS = 4 * 3600_000;

function required(env: NodeJS.ProcessEnv, name: string, flag?: string): string {
  const value = env[name];
  if (!value) throw new Error(`${name} is not set${flag ? ` (or pass ${flag})` : ''}`);
  return value;
}

const documentClient = (region?: string) =>
  DynamoDBDocumentClient.from(new DynamoDBClient({ region, maxAttempts: 5 }), {
    marshallOptions: { removeUndefinedValues: true },
  });

export interface AwsClients {
  readonly athena: Pick<AthenaClient, 'send'>;
  readonly s3: S3Client;
  readonly dynamo: DynamoDBDocumentClient;
}

export function defaultClients(): AwsClients {
  return {
    athena: new AthenaClient({ maxAttempts: 5 }),
    s3: new S3Client({ maxAttempts: 5, ...PRESIGNING_S3_CLIENT_OPTIONS }),
    dynamo: documentClient(),
  };
}

export interface AwsBuildArgs {
  readonly from?: string;
  readonly to?: string;
  readonly holdoutHours?: string;
  readonly negativeRate?: string;
  readonly warmStart?: string;
  readonly cutoff?: string;
  readonly out: string;
  readonly workgroup?: string;
  readonly database?: string;
  readonly outputLocation?: string;
}

/** An empty pipeline parameter means "not given" (derived as `adclick retrain` derives it). */
const given = (v: string | undefined) => (v === undefined || v.trim() === '' ? undefined : v);
const time = (v: string | undefined) => (given(v) ? new Date(v!) : undefined);

/**
 * The pipeline's BuildTrainingSet: the champion (the registry's, else the bootstrap artifact) to
 * `<out>/champion/model.tar.gz`, the windows and the warm start's range as `adclick retrain`
 * decides them, the data sets on Athena to `<out>/train/train.csv` and
 * `<out>/holdout/holdout.jsonl`, and what the later steps need to know to
 * `<out>/datasets/datasets.json` (also the pipeline's `Datasets` property file).
 */
export async function buildOnAws(
  args: AwsBuildArgs,
  env: NodeJS.ProcessEnv = process.env,
  clients: AwsClients = defaultClients(),
): Promise<unknown> {
  const warmStart = (given(args.warmStart) ?? 'fresh') === 'warm';
  if (!['warm', 'fresh'].includes(given(args.warmStart) ?? 'fresh')) {
    throw new RetrainError(`--warm-start must be warm or fresh, got ${args.warmStart}`);
  }
  const holdoutHours =
    given(args.holdoutHours) && Number(args.holdoutHours) > 0 ? Number(args.holdoutHours) : undefined;
  const cutoff = time(args.cutoff) ?? new Date();
  const windowSeconds = DEFAULT_ATTRIBUTION_WINDOW_SECONDS;
  const windows = retrainWindows({ from: time(args.from), to: time(args.to), holdoutHours, cutoff, windowSeconds });

  const dirs = Object.fromEntries(
    ['train', 'holdout', 'champion', 'datasets'].map((d) => [d, join(args.out, d)]),
  ) as Record<'train' | 'holdout' | 'champion' | 'datasets', string>;
  for (const dir of Object.values(dirs)) await mkdir(dir, { recursive: true });

  const registry = new DynamoModelRegistry(clients.dynamo, required(env, 'ADCLICK_MODELS_TABLE'));
  const champion: ModelRecord | undefined = await registry.champion();
  const championUri = champion?.artifact_uri ?? required(env, 'ADCLICK_BOOTSTRAP_ARTIFACT_URI');
  const location = parseS3Uri(championUri);
  if (!location) throw new Error(`the champion's artifact ${championUri} is not an s3:// URI`);
  const archive = join(dirs.champion, 'model.tar.gz');
  await downloadObject(clients.s3, location, archive, DEFAULT_MAX_ARTIFACT_BYTES);

  const work = await mkdtemp(join(tmpdir(), 'adclick-build-'));
  try {
    const notes: string[] = [];
    let train = windows.train;
    let freshReason: string | null = null;
    if (warmStart) {
      const championDir = await modelFolder(archive, join(work, 'champion'));
      freshReason = await warmStartUnusable(championDir);
      if (freshReason === null) {
        train = await afterChampion(train, championDir, given(args.from) !== undefined, (line) => notes.push(line));
      }
    }
    const runner = new AthenaQueryRunner(clients.athena, {
      workgroup: args.workgroup ?? required(env, 'ADCLICK_ATHENA_WORKGROUP', '--workgroup'),
      database: args.database ?? required(env, 'ADCLICK_ATHENA_DATABASE', '--database'),
      ...((args.outputLocation ?? env.ADCLICK_ATHENA_OUTPUT_LOCATION)
        ? { outputLocation: args.outputLocation ?? env.ADCLICK_ATHENA_OUTPUT_LOCATION }
        : {}),
      poll: { baseDelayMs: 1000, maxDelayMs: 10_000, maxTotalMs: BUILD_QUERY_BUDGET_MS },
    });
    const built = await buildDatasetsOnAthena({
      runner,
      workDir: work,
      train,
      holdout: windows.holdout,
      cutoff,
      windowSeconds,
      negativeRate: given(args.negativeRate) ? Number(args.negativeRate) : 1,
      minRows: DEFAULT_MIN_ROWS,
      trainCsv: join(dirs.train, 'train.csv'),
      holdoutFile: join(dirs.holdout, 'holdout.jsonl'),
    });
    const report = {
      ...built,
      champion: champion
        ? { model_id: champion.model_id, version: champion.version, artifact_uri: championUri }
        : { model_id: 'bootstrap', version: 'bootstrap', artifact_uri: championUri },
      warm_start: { requested: warmStart, fresh_reason: freshReason },
      notes,
      // Always-present strings: the Train step's hyperparameters read them from the property file.
      training: {
        categorical: built.hyperparameters.categorical ?? '',
        from: built.train.from,
        to: built.train.to,
      },
    };
    await writeFile(join(dirs.datasets, 'datasets.json'), `${JSON.stringify(report, null, 2)}\n`);
    return report;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

export interface AwsRegisterArgs {
  readonly model: string;
  readonly gate: string;
  readonly datasets?: string;
  readonly challenger: boolean;
  readonly version?: string;
}

/** The pipeline's RegisterChallenger / RegisterCandidate, straight into the registry. */
export async function registerOnAws(
  args: AwsRegisterArgs,
  env: NodeJS.ProcessEnv = process.env,
  clients: Pick<AwsClients, 's3' | 'dynamo'> = defaultClients(),
): Promise<ModelRecord> {
  const bucket = required(env, 'ADCLICK_MODEL_BUCKET');
  return registerDirect({
    registry: new DynamoModelRegistry(clients.dynamo, required(env, 'ADCLICK_MODELS_TABLE')),
    artifacts: new S3ArtifactStore(clients.s3, { bucket }),
    putArtifact: async (uri, body) => {
      const location = parseS3Uri(uri);
      if (!location) throw new Error(`the upload's artifact URI ${uri} is not an s3:// URI`);
      await clients.s3.send(
        new PutObjectCommand({
          Bucket: location.bucket,
          Key: location.key,
          Body: body,
          ContentType: 'application/gzip',
        }),
      );
    },
    clock: systemClock,
    ids: new TimeOrderedIds(systemClock),
    model: args.model,
    gate: await readJson<GateReport>(args.gate),
    datasets: args.datasets ? await readJson<DatasetsReport>(args.datasets) : null,
    challenger: args.challenger,
    ...(args.version ? { version: args.version } : {}),
  });
}
