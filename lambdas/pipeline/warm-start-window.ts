/**
 * What a warm start changes before training (docs/retraining.md "Warm start or fresh"), shared by
 * `adclick retrain` and the pipeline's build step so that both pick the same rows: whether the
 * champion can be continued from at all, and the training range that then starts where the
 * champion's ended.
 */
import { readManifest } from '../../sagemaker/index.js';
import { loadWarmStart } from '../../sagemaker/model/warm-start.js';

/**
 * Why a warm start asked for will train fresh, checked before the training range moves (a fresh
 * model should have the whole range); null when the champion's state is usable.
 */
export async function warmStartUnusable(championModelDir: string | null): Promise<string | null> {
  if (!championModelDir) return 'there is no champion to continue from';
  return (await loadWarmStart(championModelDir)).unavailable ?? null;
}

/**
 * The training range of a warm start: it begins where the champion's ended, so that no row is
 * learned twice. An explicit --from is kept, with a note when it overlaps the champion's window.
 */
export async function afterChampion(
  train: { from: Date; to: Date },
  championModelDir: string,
  explicitFrom: boolean,
  note: (line: string) => void,
): Promise<{ from: Date; to: Date }> {
  const window = (await readManifest(championModelDir)).training_window;
  const end = window?.to ? new Date(window.to) : null;
  if (!end || end.getTime() <= train.from.getTime()) return train;
  const shown = `[${window?.from ?? '…'}, ${window?.to})`;
  if (explicitFrom || end.getTime() >= train.to.getTime()) {
    note(`the training range overlaps the champion's ${shown}: a warm start learns those rows a second time`);
    return train;
  }
  note(`warm start: the training range starts where the champion's ${shown} ended`);
  return { from: end, to: train.to };
}
