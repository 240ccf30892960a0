/**
 * The gate's refusal, shown with its numbers (candidate against champion on the same holdout), and
 * the choice to activate anyway. A modal <dialog>: focus moves into it (to Cancel, the safe
 * choice) and Escape closes it.
 */
import type { Problem } from '../api-client.js';
import type { GateReport, ModelRecord } from '../api-types.js';
import { el } from '../dom.js';
import { count, decimal } from '../format.js';

type Side = GateReport['candidate'];

function metricsTable(gate: GateReport): HTMLElement {
  const row = (label: string, f: (s: Side) => string) =>
    el(
      'tr',
      {},
      el('th', { scope: 'row' }, label),
      el('td', {}, f(gate.candidate)),
      el('td', {}, gate.champion ? f(gate.champion) : '–'),
    );
  return el(
    'table',
    { class: 'data-table gate-table' },
    el('caption', {}, `Holdout: ${gate.holdout}`),
    el(
      'thead',
      {},
      el('tr', {}, el('td', {}), el('th', { scope: 'col' }, 'Candidate'), el('th', { scope: 'col' }, 'Champion')),
    ),
    el(
      'tbody',
      {},
      row('Log loss (lower wins)', (s) => decimal(s.logloss)),
      row('Calibration (0.9 – 1.1)', (s) => decimal(s.calibration, 3)),
      row('AUC', (s) => decimal(s.auc, 3)),
      row('Rows', (s) => count(s.rows)),
      row('Clicks', (s) => count(s.positives)),
    ),
  );
}

/** Resolves true when the reader chose to activate anyway. */
export function confirmOverGate(model: ModelRecord, problem: Problem | null): Promise<boolean> {
  const gate = problem?.gate ?? null;
  const force = el('button', { type: 'button', class: 'danger', value: 'force' }, 'Activate anyway');
  const cancel = el('button', { type: 'button', autofocus: true }, 'Cancel');
  const dialog = el(
    'dialog',
    { class: 'gate-dialog', 'aria-labelledby': 'gate-title', 'aria-describedby': 'gate-detail' },
    el('h2', { id: 'gate-title' }, `The gate refused ${model.version}`),
    el('p', { id: 'gate-detail' }, problem?.detail ?? 'The activation was refused.'),
    gate && gate.reasons.length > 0 ? el('ul', {}, ...gate.reasons.map((r) => el('li', {}, r))) : null,
    gate ? metricsTable(gate) : null,
    el(
      'p',
      {},
      'Activating anyway makes it the champion for all traffic outside experiments; the report stays on the model.',
    ),
    el('div', { class: 'dialog-actions' }, cancel, force),
  );
  document.body.append(dialog);
  return new Promise((resolve) => {
    let forced = false;
    force.addEventListener('click', () => {
      forced = true;
      dialog.close();
    });
    cancel.addEventListener('click', () => dialog.close());
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(forced);
    });
    dialog.showModal();
    cancel.focus();
  });
}
