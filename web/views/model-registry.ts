/**
 * The model registry: every model with its status and holdout numbers, activate (through the
 * gate; a refusal shows its numbers and offers force), rollback (activate the previous
 * champion), and what the drift monitor did.
 */
import { canActivate, driftEvents, rollbackTarget } from '../aggregate.js';
import { ApiError } from '../api-client.js';
import type { ModelList, ModelRecord } from '../api-types.js';
import { dataTable, el, notice, replaceContent } from '../dom.js';
import { decimal, utc } from '../format.js';
import { confirmOverGate } from './gate-dialog.js';
import type { ViewContext } from './view-context.js';

const DRIFT_KINDS: Record<string, string> = {
  rolled_back: 'Rolled back',
  experiment_stopped: 'Experiments stopped',
  flagged: 'Flagged',
};

const holdout = (m: ModelRecord, key: string) => {
  const v = m.holdout_metrics?.[key];
  return typeof v === 'number' ? v : null;
};

export async function showModelRegistry(root: HTMLElement, ctx: ViewContext): Promise<void> {
  const { models } = await ctx.api.get<ModelList>('/models');
  if (models.length === 0) {
    replaceContent(root, notice('empty', 'No models registered yet.'));
    return;
  }
  const reload = () => showModelRegistry(root, ctx).catch((err: Error) => ctx.announce(err.message));
  const activate = async (model: ModelRecord, button: HTMLButtonElement, force = false): Promise<void> => {
    button.disabled = true;
    ctx.announce(`Activating ${model.version}…`);
    try {
      await ctx.api.put(`/model/activate/${encodeURIComponent(model.model_id)}`, force ? { force: true } : {});
      ctx.announce(`${model.version} is now the champion${force ? ' (activated over the gate)' : ''}.`);
      await reload();
      // The button is gone with the old table: keep keyboard focus in the section.
      root.closest('section')?.querySelector<HTMLElement>('h2')?.focus();
    } catch (err) {
      button.disabled = false;
      if (err instanceof ApiError && err.status === 409) {
        ctx.announce(`The gate refused ${model.version}.`);
        if (await confirmOverGate(model, err.problem)) await activate(model, button, true);
        else button.focus();
        return;
      }
      ctx.announce(`Activating ${model.version} failed: ${(err as Error).message}`);
    }
  };

  const versionOf = new Map(models.map((m) => [m.model_id, m.version]));
  const previous = rollbackTarget(models);
  const rollback = previous
    ? el('button', { type: 'button', class: 'rollback' }, `Roll back to ${previous.version}`)
    : null;
  if (rollback && previous) rollback.addEventListener('click', () => void activate(previous, rollback));

  const rows = models.map((m) => {
    let action: Node | string = m.status === 'champion' ? 'Serving' : '–';
    if (canActivate(m)) {
      const button = el(
        'button',
        { type: 'button', 'aria-label': `Activate ${m.version}`, 'data-activate': m.model_id },
        'Activate',
      );
      button.addEventListener('click', () => void activate(m, button));
      action = button;
    }
    return el(
      'tr',
      { 'data-model-id': m.model_id, 'data-status': m.status },
      el('th', { scope: 'row' }, m.version),
      el('td', {}, el('span', { class: `status status-${m.status}` }, m.status)),
      el('td', {}, utc(m.created_at)),
      el('td', {}, utc(m.activated_at)),
      el('td', {}, decimal(holdout(m, 'logloss'))),
      el('td', {}, decimal(holdout(m, 'calibration'), 3)),
      el('td', {}, action),
    );
  });
  const registry = el(
    'table',
    { class: 'data-table registry' },
    el('caption', {}, 'Registered models, newest first'),
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        ...['Version', 'Status', 'Created', 'Activated', 'Holdout log loss', 'Calibration', 'Action'].map((h) =>
          el('th', { scope: 'col' }, h),
        ),
      ),
    ),
    el('tbody', {}, ...rows),
  );

  const events = driftEvents(models);
  replaceContent(
    root,
    rollback
      ? el('p', { class: 'view-controls' }, rollback, ' activates the previous champion (through the gate).')
      : null,
    el('div', { class: 'table-scroll' }, registry),
    el('h3', { id: 'drift-title' }, 'Drift rollbacks'),
    events.length === 0
      ? notice('empty', 'The drift monitor has not acted on any model.')
      : dataTable(
          'what the drift monitor did, newest first',
          ['When', 'What', 'Model', 'Rolled back to', 'Why'],
          events.map((e) => [
            utc(e.at),
            DRIFT_KINDS[e.kind] ?? e.kind,
            versionOf.get(e.model_id) ?? e.model_id,
            e.rolled_back_to ? (versionOf.get(e.rolled_back_to) ?? e.rolled_back_to) : '–',
            e.reasons.join('; ') || e.detail,
          ]),
          true,
        ),
  );
}
