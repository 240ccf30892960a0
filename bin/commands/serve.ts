import { ConfigError, parseLocalConfig } from '../../lambdas/server/config.js';
import { signInLink, startLocal } from '../../lambdas/server/local-runtime.js';

/** `adclick serve`: start, print where, and stop cleanly on SIGTERM/SIGINT. */
export async function serve(env: NodeJS.ProcessEnv): Promise<void> {
  let config: ReturnType<typeof parseLocalConfig>;
  try {
    config = parseLocalConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const runtime = await startLocal(config);
  process.stderr.write(`adclick listening on ${runtime.url} (data in ${runtime.dataDir})\n`);
  // The signed-in link only on a terminal (the person who started it), never into logs after the
  // first start; the token file or ADCLICK_ADMIN_TOKEN is the way in otherwise.
  if (!runtime.adminTokenShown) {
    process.stderr.write(
      process.stderr.isTTY
        ? `dashboard: ${signInLink(runtime.url, runtime.adminToken)}\n`
        : `dashboard: ${runtime.url}/ (sign in with the admin token)\n`,
    );
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`${signal}: draining requests and flushing the event log...\n`);
    runtime.close().then(
      () => process.exit(0),
      (err) => {
        process.stderr.write(`shutdown failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
