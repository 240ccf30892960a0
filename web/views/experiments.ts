/** A/B experiments: per variant CTR, lift with its 95 % interval, p-value, guardrails, and the decision. */
import type { ExperimentSummary, ExperimentWithResults } from '../api-types.js';
import { intervalPlot } from '../charts/interval-plot.js';
import { chartFigure, code, dataTable, el, notice, replaceContent } from '../dom.js';
import { count, decimal, lift, percent, utc } from '../format.js';
import type { ViewContext } from './view-context.js';

const DECISIONS: Record<string, string> = {
  keep_running: 'Keep running: no conclusion yet',
  promote: 'Promote the winner',
  stop: 'Stop: the treatment does not win',
};

/** Kept across refreshes: the experiment the reader chose. */
let chosen: string | null = null;

export async function showExperiments(root: HTMLElement, ctx: ViewContext): Promise<void> {
  const { experiments } = await ctx.api.get<{ experiments: ExperimentSummary[] }>('/experiments');
  if (experiments.length === 0) {
    replaceContent(
      root,
      notice(
        'empty',
        'No experiments yet. Start one with ',
        code('POST /experiments'),
        ' or ',
        code('npx adclick retrain --experiment 0.5'),
        '.',
      ),
    );
    return;
  }
  if (!experiments.some((e) => e.experiment_id === chosen)) {
    chosen = (experiments.find((e) => e.status === 'running') ?? experiments[0]!).experiment_id;
  }
  const select = el(
    'select',
    { id: 'experiment-choice' },
    ...experiments.map((e) =>
      el(
        'option',
        { value: e.experiment_id, selected: e.experiment_id === chosen },
        `${e.name} (${e.status}, ${utc(e.created_at, true)})`,
      ),
    ),
  );
  const detail = el('div', { class: 'experiment-detail', 'aria-live': 'polite' });
  replaceContent(
    root,
    el('div', { class: 'view-controls' }, el('label', { for: 'experiment-choice' }, 'Experiment'), select),
    detail,
  );
  select.addEventListener('change', () => {
    chosen = select.value;
    showDetail(detail, ctx, select.value).catch((err: Error) => replaceContent(detail, notice('error', err.message)));
  });
  await showDetail(detail, ctx, chosen!);
}

async function showDetail(root: HTMLElement, ctx: ViewContext, id: string): Promise<void> {
  const e = await ctx.api.get<ExperimentWithResults>(`/experiments/${encodeURIComponent(id)}`);
  const r = e.results;
  const decision = el(
    'div',
    { class: `decision decision-${r.decision}`, 'data-decision': r.decision },
    el('p', {}, el('strong', {}, 'Decision: '), DECISIONS[r.decision] ?? r.decision, r.winner ? ` (${r.winner})` : ''),
    r.reasons.length > 0 ? el('ul', {}, ...r.reasons.map((reason) => el('li', {}, reason))) : null,
  );
  const meta = el(
    'p',
    { class: 'meta' },
    `${e.status === 'running' ? 'Running' : 'Stopped'}; counted from ${utc(r.from)} to ${utc(r.to)}; `,
    e.campaign_ids ? `campaigns ${e.campaign_ids.join(', ')}` : 'all traffic',
    r.clamped ? '; only the last 92 days count' : '',
  );
  const withLift = r.variants.filter((v) => v.lift !== null);
  const chart =
    withLift.length > 0 ? chartFigure('lift', 'CTR lift of each variant vs the control, with its 95 % interval') : null;
  replaceContent(
    root,
    meta,
    decision,
    chart
      ? chart.figure
      : notice('empty', 'No lift to show yet: the variants need impressions and clicks under this experiment.'),
    dataTable(
      `variants of ${e.name}`,
      [
        'Variant',
        'Model',
        'Impressions',
        'Clicks',
        'CTR',
        'Lift [95 % CI]',
        'p-value',
        'Log loss',
        'Calibration',
        'Guardrails',
      ],
      r.variants.map((v) => [
        `${v.variant}${v.control ? ' (control)' : ''}`,
        v.model_id,
        count(v.impressions),
        count(v.clicks),
        percent(v.ctr),
        lift(v.lift),
        decimal(v.p_value, 3),
        decimal(v.logloss),
        decimal(v.calibration, 3),
        v.guardrails.length === 0
          ? '–'
          : v.guardrails.map((g) => `${g.name}: ${g.passed ? 'ok' : 'failed'}`).join(', '),
      ]),
      true,
    ),
  );
  if (chart) {
    intervalPlot(
      chart.canvas,
      withLift.map((v) => ({
        label: v.variant,
        estimate: v.lift!.estimate,
        lower: v.lift!.lower,
        upper: v.lift!.upper,
      })),
      (x) => `${(x * 100).toFixed(0)} %`,
    );
  }
}
