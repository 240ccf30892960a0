/**
 * The SageMaker container contract's paths and port. SageMaker mounts everything under /opt/ml and
 * also passes most of it in SM_* variables; reading the variables first (with the /opt/ml defaults)
 * lets the same entry points run on a laptop against a temporary folder.
 */
import { join } from 'node:path';

export interface ContainerPaths {
  /** Where `train` writes the artifact and `serve` reads it. */
  readonly modelDir: string;
  /** The `train` channel: a file, or a folder of files read in name order. */
  readonly trainChannel: string;
  /** The optional `validation` channel. */
  readonly validationChannel: string;
  /**
   * The optional `warm-start` channel: the model to continue from (its folder or model.tar.gz),
   * read only when the `warm-start` hyperparameter asks for it.
   */
  readonly warmStartChannel: string;
  readonly hyperparametersFile: string;
  /** SageMaker shows this file's text as the job's FailureReason. */
  readonly failureFile: string;
  /** SageMaker uploads this folder as the job's output.tar.gz, beside model.tar.gz. */
  readonly outputDataDir: string;
  readonly port: number;
}

export function containerPaths(env: NodeJS.ProcessEnv = process.env): ContainerPaths {
  const root = env.SM_ML_ROOT ?? '/opt/ml';
  const input = join(root, 'input');
  const port = Number(env.SAGEMAKER_BIND_TO_PORT ?? '8080');
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new RangeError(`SAGEMAKER_BIND_TO_PORT must be a port number, got ${env.SAGEMAKER_BIND_TO_PORT}`);
  }
  return {
    modelDir: env.SM_MODEL_DIR ?? join(root, 'model'),
    trainChannel: env.SM_CHANNEL_TRAIN ?? join(input, 'data', 'train'),
    validationChannel: env.SM_CHANNEL_VALIDATION ?? join(input, 'data', 'validation'),
    warmStartChannel: env.SM_CHANNEL_WARM_START ?? join(input, 'data', 'warm-start'),
    hyperparametersFile: env.SM_HPS_FILE ?? join(input, 'config', 'hyperparameters.json'),
    failureFile: join(env.SM_OUTPUT_DIR ?? join(root, 'output'), 'failure'),
    outputDataDir: env.SM_OUTPUT_DATA_DIR ?? join(env.SM_OUTPUT_DIR ?? join(root, 'output'), 'data'),
    port,
  };
}
