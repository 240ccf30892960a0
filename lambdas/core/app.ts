import { AdsUseCase } from './usecases/ads.js';
import { AnalyticsUseCase } from './usecases/analytics.js';
import type { Deps } from './usecases/deps.js';
import { type DriftConfig, DriftMonitor } from './usecases/drift.js';
import { ErasureUseCase } from './usecases/erasure.js';
import { RecordEventsUseCase } from './usecases/events.js';
import { ExperimentsUseCase } from './usecases/experiments.js';
import { ModelsUseCase } from './usecases/models.js';
import { PredictUseCase } from './usecases/predict.js';
import { ModelRouting } from './usecases/routing.js';

/** The use cases wired over one set of adapters; every runtime builds exactly one. */
export interface App {
  readonly deps: Deps;
  readonly predict: PredictUseCase;
  readonly events: RecordEventsUseCase;
  readonly ads: AdsUseCase;
  readonly models: ModelsUseCase;
  readonly experiments: ExperimentsUseCase;
  readonly analytics: AnalyticsUseCase;
  /** DELETE /users/{user_id}, GET /erasures/{id}. */
  readonly erasures: ErasureUseCase;
  /** A drift monitor over this App's ports that switches its routing at once when it acts. */
  driftMonitor(config?: Partial<DriftConfig>): DriftMonitor;
  health(): Promise<{
    status: 'ok' | 'degraded' | 'down';
    dependencies: Record<string, { status: string; detail?: string }>;
  }>;
}

export function createApp(deps: Deps): App {
  const routing = new ModelRouting(deps.models, deps.experiments, deps.clock, deps.config.routingCacheMs);
  return {
    deps,
    predict: new PredictUseCase(deps, routing),
    events: new RecordEventsUseCase(deps),
    ads: new AdsUseCase(deps),
    models: new ModelsUseCase(deps, routing),
    experiments: new ExperimentsUseCase(deps, routing),
    analytics: new AnalyticsUseCase(deps),
    erasures: new ErasureUseCase(deps),
    driftMonitor: (config) => new DriftMonitor(deps, config, routing),
    async health() {
      const entries = await Promise.all(
        deps.health.map(async (probe) => {
          try {
            return [probe.name, await probe.check()] as const;
          } catch (err) {
            // /health is open: the reason goes to the log, not to whoever asks.
            deps.logger.error('health check failed', { dependency: probe.name, error: String(err) });
            return [probe.name, { status: 'down' as const, detail: 'check failed (see the server log)' }] as const;
          }
        }),
      );
      const dependencies = Object.fromEntries(entries);
      const states = entries.map(([, s]) => s.status);
      const status = states.includes('down') ? 'down' : states.includes('degraded') ? 'degraded' : 'ok';
      return { status, dependencies };
    },
  };
}
