import * as z from 'zod';

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

export function isLoopback(host: string): boolean {
  return LOOPBACK.test(host);
}

/** The local server's configuration, from the environment, parsed once; a bad value stops the start. */
export const LocalConfig = z
  .object({
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    HOST: z.string().min(1).default('127.0.0.1'),
    ADCLICK_DATA_DIR: z.string().min(1).default('./.adclick'),
    ADCLICK_API_KEYS: z
      .string()
      .default('')
      .transform((s) =>
        s
          .split(',')
          .map((k) => k.trim())
          .filter((k) => k !== ''),
      )
      .refine((keys) => keys.every((k) => k.length >= 16), 'each API key must be at least 16 characters'),
    ADCLICK_ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
    ADCLICK_LOG_LEVEL: z.enum(['info', 'warn', 'error', 'silent']).default('info'),
    ADCLICK_BOOTSTRAP_ROWS: z.coerce.number().int().min(1000).max(10_000_000).default(200_000),
    /** Run `adclick retrain` against this server every so many minutes (0: never). */
    ADCLICK_RETRAIN_INTERVAL_MINUTES: z.coerce
      .number()
      .int()
      .min(0)
      .max(7 * 24 * 60)
      .default(0),
    /** Whether the interval's retrains activate a candidate that passes the gate. */
    ADCLICK_RETRAIN_ACTIVATE: z
      .enum(['true', 'false'])
      .default('false')
      .transform((v) => v === 'true'),
    /** Whether the interval's retrains continue from the champion (`--warm-start`) instead of training fresh. */
    ADCLICK_RETRAIN_WARM_START: z
      .enum(['true', 'false'])
      .default('false')
      .transform((v) => v === 'true'),
    REDIS_URL: z.string().optional(),
    /** Days the SQLite prediction log keeps a prediction (the lake's model_predictions keeps 400). */
    ADCLICK_PREDICTION_LOG_DAYS: z.coerce.number().int().min(1).max(400).default(90),
    /** Minutes between merges of the lake's closed partitions' small files (docs/OPERATIONS.md); 0: never. */
    ADCLICK_LAKE_COMPACTION_MINUTES: z.coerce.number().int().min(0).max(1440).default(10),
    /** Minutes between drift checks of the serving models (docs/drift.md); 0 turns them off. */
    ADCLICK_DRIFT_CHECK_MINUTES: z.coerce.number().int().min(0).max(1440).default(15),
    ADCLICK_DRIFT_WINDOW_HOURS: z.coerce.number().positive().max(168).default(6),
    ADCLICK_DRIFT_MIN_IMPRESSIONS: z.coerce.number().int().min(1).max(1_000_000_000).default(10_000),
    ADCLICK_DRIFT_MIN_CLICKS: z.coerce.number().int().min(1).max(1_000_000_000).default(500),
    /** Share of predictions that may explore new ads (README "Exploration"); 0 turns it off. */
    ADCLICK_EXPLORATION_BUDGET: z.coerce.number().min(0).max(1).default(0),
    /** The exploration bonus in posterior standard deviations of the logit. */
    ADCLICK_EXPLORATION_KAPPA: z.coerce.number().min(0).max(10).default(1),
    /** An ad the model saw in fewer training rows than this is new. */
    ADCLICK_EXPLORATION_MIN_EVIDENCE: z.coerce.number().int().min(1).max(65_535).default(100),
  })
  .superRefine((c, ctx) => {
    if (!isLoopback(c.HOST) && c.ADCLICK_API_KEYS.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['ADCLICK_API_KEYS'],
        message: `is required when HOST (${c.HOST}) is not a loopback address: ad-server routes would be open to the network`,
      });
    }
    if (c.REDIS_URL !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['REDIS_URL'],
        message: 'is not supported by this version of the local server yet (features are kept in memory); unset it',
      });
    }
  });
export type LocalConfig = z.infer<typeof LocalConfig>;

export class ConfigError extends Error {}

export function parseLocalConfig(env: NodeJS.ProcessEnv): LocalConfig {
  const result = LocalConfig.safeParse(env);
  if (result.success) return result.data;
  const lines = result.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
  throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
}
