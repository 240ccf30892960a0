/**
 * The container's entry point. SageMaker starts a training job as `docker run IMAGE train` and an
 * endpoint as `docker run IMAGE serve`; locally: `node --import tsx sagemaker/container/entrypoint.ts serve`.
 */
import { serve } from './serve.js';
import { train } from './train.js';

const USAGE = 'usage: entrypoint.ts serve | train';

async function main(command: string | undefined): Promise<void> {
  if (command === 'serve') {
    await serve();
    return;
  }
  if (command === 'train') {
    process.exitCode = await train();
    return;
  }
  process.stderr.write(`${USAGE}\n`);
  process.exitCode = 2;
}

main(process.argv[2]).catch((err: unknown) => {
  // A model that cannot load must stop the container: SageMaker then reports the endpoint as failed.
  process.stderr.write(`${(err as Error).name}: ${(err as Error).message}\n`);
  process.exit(1);
});
