/**
 * Which models must keep their production variant on the endpoint, read from the registry and
 * the experiment store at the moment an endpoint config is built (endpoint-deployment.ts).
 * Every other variant is dropped by the next update: SageMaker allows only 10 per endpoint, and
 * each holds instances.
 */
import type { ExperimentStore, ModelRef, ModelRegistry } from '../../../core/ports.js';
import type { ModelRecord } from '../../../core/schemas/models.js';

export interface VariantsInUse {
  /** Models traffic is routed to: the champion and every model of a running experiment. */
  readonly serving: readonly ModelRef[];
  /** Ids of models whose variant is kept while present though no traffic reaches it (the challenger). */
  readonly kept: readonly string[];
}

export type VariantsInUseSource = () => Promise<VariantsInUse>;

const ref = (m: ModelRecord): ModelRef => ({ model_id: m.model_id, version: m.version, artifact_uri: m.artifact_uri });

export function variantsInUse(
  registry: Pick<ModelRegistry, 'list'>,
  experiments: Pick<ExperimentStore, 'running'>,
): VariantsInUseSource {
  return async () => {
    // One scan rather than champion() + get() per variant: the registry holds tens of models.
    const [models, running] = await Promise.all([registry.list(), experiments.running()]);
    const byId = new Map(models.map((m) => [m.model_id, m]));
    const serving = new Map<string, ModelRef>();
    const champion = models.find((m) => m.alias === 'champion');
    if (champion) serving.set(champion.model_id, ref(champion));
    for (const variant of running.flatMap((e) => e.variants)) {
      const model = byId.get(variant.model_id);
      if (model && !serving.has(model.model_id)) serving.set(model.model_id, ref(model));
    }
    // An experiment's model missing from the registry gets no traffic, but keeping its variant costs
    // less than being wrong about a registry read that lagged.
    const kept = [
      ...models.filter((m) => m.alias === 'challenger').map((m) => m.model_id),
      ...running.flatMap((e) => e.variants.map((v) => v.model_id)).filter((id) => !serving.has(id)),
    ];
    return { serving: [...serving.values()], kept };
  };
}
