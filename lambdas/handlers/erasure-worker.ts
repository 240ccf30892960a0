/**
 * The erasure worker on a schedule (EventBridge, every minute): runs every erasure the API
 * recorded and has not finished (DELETE /users/{user_id} answers 202 once the receipt is in the
 * erasures table), store by store, and waits for them. One at a time (reserved concurrency 1);
 * an invoke cut short leaves the receipt `running`, and the next tick resumes it after the last
 * store it finished. The lake's rewrite is a Glue job it starts, not waits for.
 */
import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { type App, createApp } from '../core/app.js';
import type { Logger } from '../core/ports.js';
import { composeAws, createAwsClients } from './composition.js';
import { parseApiConfig } from './config.js';
import { coreLogger } from './observability.js';

/** Resumes every unfinished erasure of `app` and resolves once all have run; returns how many. */
export async function runUnfinishedErasures(
  compose: (schedule: (run: () => Promise<void>) => void) => App,
): Promise<number> {
  const runs: Promise<void>[] = [];
  const app = compose((run) => runs.push(run()));
  const n = await app.erasures.resume();
  await Promise.all(runs);
  return n;
}

const powertools = new PowertoolsLogger({ serviceName: 'adclick-erasure-worker' });
const tracer = new Tracer({ serviceName: 'adclick-erasure-worker' });
let composed: Promise<App> | undefined;

export async function handler(): Promise<{ erasures: number }> {
  const logger: Logger = coreLogger(powertools);
  composed ??= (async () => {
    const config = parseApiConfig(process.env);
    return (await composeAws(config, logger, createAwsClients(config, logger, tracer), tracer)).app;
  })().catch((err: unknown) => {
    composed = undefined;
    throw err;
  });
  const { deps } = await composed;
  const erasures = await runUnfinishedErasures((schedule) =>
    createApp(deps.erasure ? { ...deps, erasure: { ...deps.erasure, schedule } } : deps),
  );
  logger.info('erasure worker ran', { erasures });
  return { erasures };
}
