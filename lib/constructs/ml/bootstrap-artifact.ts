import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { AssetHashType, BundlingOutput, DockerImage, type ILocalBundling } from 'aws-cdk-lib';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import { REPOSITORY_ROOT } from './repository-root.js';

/** Trains the bootstrap model on this machine (no Docker): scripts/bootstrap-artifact.ts. */
const trainLocally: ILocalBundling = {
  tryBundle(outputDir: string): boolean {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/bootstrap-artifact.ts', outputDir], {
      cwd: REPOSITORY_ROOT,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    if (run.status !== 0) {
      // No Docker fallback: the Docker bundler would need an image that holds this repository.
      throw new Error(`training the bootstrap model failed (exit ${run.status ?? run.signal})`);
    }
    return true;
  },
};

/**
 * The endpoint's first model artifact (model.tar.gz), trained at synth on simulated traffic with
 * a fixed seed, so a fresh deployment serves at once. Its hash is the algorithm's source
 * (sagemaker/): the model is retrained only when the code that trains it changes, and a synth
 * that finds it staged in cdk.out reuses it.
 */
export class BootstrapArtifact extends Construct {
  readonly asset: s3assets.Asset;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.asset = new s3assets.Asset(this, 'Asset', {
      path: join(REPOSITORY_ROOT, 'sagemaker'),
      assetHashType: AssetHashType.SOURCE,
      exclude: ['**/*.test.ts', '**/README.md'],
      bundling: {
        image: DockerImage.fromRegistry('unused-local-bundling-only'),
        local: trainLocally,
        outputType: BundlingOutput.SINGLE_FILE,
      },
    });
  }
}
