/**
 * The erasure settings of a function's environment (API function, erasure worker): checked with
 * the rest of its configuration at the first invoke, a fault named by variable (ConfigError),
 * never by value. Without ADCLICK_ERASURES_TABLE the function has no erasure (its routes: 503).
 */
import * as z from 'zod';
import { parseEnvironment } from './config-error.js';
import { numberIn, resourceName } from './predict-config.js';

export interface ErasureConfig {
  readonly erasuresTable: string;
  readonly rewriteJob: string;
  readonly lakeBucket: string;
  readonly lakePrefix: string;
  /** How long the lake's rewrite waits after the request: the delivery streams' buffer and a margin. */
  readonly lakeDelayMs: number;
}

/** Firehose's largest buffer interval (900 s) and a minute: the default wait before the lake's rewrite. */
export const DEFAULT_LAKE_DELAY_SECONDS = 960;

const ErasureEnvironment = z.object({
  ADCLICK_ERASURES_TABLE: resourceName,
  ADCLICK_ERASURE_JOB: resourceName,
  ADCLICK_LAKE_BUCKET: resourceName,
  ADCLICK_LAKE_PREFIX: z.optional(resourceName),
  ADCLICK_ERASURE_LAKE_DELAY_SECONDS: z.optional(numberIn(0, 86_400, true)),
});

/** The erasure settings from the environment, or undefined when the function has none. */
export function erasureConfigOf(env: Readonly<Record<string, string | undefined>>): ErasureConfig | undefined {
  if (!env.ADCLICK_ERASURES_TABLE?.trim()) return undefined;
  const e = parseEnvironment(ErasureEnvironment, env);
  return {
    erasuresTable: e.ADCLICK_ERASURES_TABLE,
    rewriteJob: e.ADCLICK_ERASURE_JOB,
    lakeBucket: e.ADCLICK_LAKE_BUCKET,
    lakePrefix: e.ADCLICK_LAKE_PREFIX ?? 'lake',
    lakeDelayMs: (e.ADCLICK_ERASURE_LAKE_DELAY_SECONDS ?? DEFAULT_LAKE_DELAY_SECONDS) * 1000,
  };
}
