import { IgnoreMode } from 'aws-cdk-lib';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import { Construct } from 'constructs';
import { REPOSITORY_ROOT } from './repository-root.js';

/**
 * What sagemaker/container/Dockerfile copies, and nothing else: the build context (and the
 * asset's hash) then change only when the image would, and synth stages a few hundred files,
 * not node_modules. Keep in step with the Dockerfile's COPY lines (the test reads both). Beside
 * the container (`sagemaker/`), the pipeline's processing steps run lambdas/pipeline/steps/ in
 * this image: their import graph (test/infra/ml-image-context.test.ts walks it with esbuild) and
 * the SQL they load at run time.
 */
export const MODEL_IMAGE_CONTEXT: readonly string[] = [
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'sagemaker',
  'sql',
  'lambdas/core',
  'lambdas/adapters/shared',
  'lambdas/adapters/aws/backoff.ts',
  'lambdas/adapters/aws/athena',
  'lambdas/adapters/aws/dynamodb',
  'lambdas/adapters/aws/s3',
  'lambdas/adapters/local/ids.ts',
  'lambdas/adapters/local/duckdb',
  'lambdas/adapters/local/event-log',
  'lambdas/pipeline/retrain-windows.ts',
  'lambdas/pipeline/warm-start-window.ts',
  'lambdas/pipeline/steps',
];

export interface ModelImageProps {
  /**
   * The CPU architecture of the instances that run it: Graviton (`ml.c6g.*`, …) hosting needs an
   * arm64 image, training and processing jobs an amd64 one.
   */
  readonly platform: ecrAssets.Platform;
}

/** The model container image, built from the repository root at deploy (CDK asset publishing). */
export class ModelImage extends Construct {
  readonly asset: ecrAssets.DockerImageAsset;

  constructor(scope: Construct, id: string, props: ModelImageProps) {
    super(scope, id);
    this.asset = new ecrAssets.DockerImageAsset(this, 'Asset', {
      directory: REPOSITORY_ROOT,
      file: 'sagemaker/container/Dockerfile',
      platform: props.platform,
      ignoreMode: IgnoreMode.DOCKER,
      exclude: ['*', ...MODEL_IMAGE_CONTEXT.map((path) => `!${path}`), '**/*.test.ts', '**/node_modules'],
    });
  }
}

/** SageMaker's Graviton instance families (`ml.c6g.large`, `ml.m7g.xlarge`, …) run arm64 images. */
export function platformOf(instanceType: string): ecrAssets.Platform {
  return /^ml\.[a-z]+\d+g[a-z]*\./.test(instanceType) ? ecrAssets.Platform.LINUX_ARM64 : ecrAssets.Platform.LINUX_AMD64;
}
