/** Per model version and variant: online metrics and its reliability diagram (calibration plot). */
import type { ModelMetrics, ModelsAnalyticsResponse } from '../api-types.js';
import { reliabilityDiagram } from '../charts/reliability-diagram.js';
import { chartFigure, dataTable, el, figures, notice, replaceContent } from '../dom.js';
import { count, decimal, percent, utc } from '../format.js';
import { rangeQuery, type ViewContext } from './view-context.js';

export async function showModelReliability(root: HTMLElement, ctx: ViewContext): Promise<void> {
  const res = await ctx.api.get<ModelsAnalyticsResponse>('/analytics/models', rangeQuery(ctx));
  if (res.models.length === 0) {
    replaceContent(
      root,
      notice(
        'empty',
        `No impressions followed a logged prediction from ${utc(res.from)} to ${utc(res.to)}: no model to judge yet.`,
      ),
    );
    return;
  }
  const cards = res.models.map((m) => modelCard(m));
  replaceContent(root, el('div', { class: 'cards' }, ...cards.map((c) => c.card)));
  for (const { model, canvas } of cards) {
    if (!canvas) continue;
    reliabilityDiagram(
      canvas,
      model.reliability.map((b) => ({ meanPrediction: b.mean_prediction, observedRate: b.observed_rate })),
    );
  }
}

function modelCard(m: ModelMetrics): { card: HTMLElement; model: ModelMetrics; canvas: HTMLElement | null } {
  const title = `${m.model_version} · ${m.variant}`;
  const chart = m.reliability.length > 0 ? chartFigure('reliability', `Reliability diagram of ${title}`) : null;
  const card = el(
    'article',
    { class: 'card', 'data-model': m.model_version, 'data-variant': m.variant },
    el('h3', {}, title),
    figures([
      ['Impressions', count(m.impressions)],
      ['CTR', percent(m.ctr)],
      ['Log loss', decimal(m.log_loss)],
      ['AUC', decimal(m.auc, 3)],
      ['Calibration', decimal(m.calibration, 3)],
      ['Explored', percent(m.exploration.share, 1)],
    ]),
    chart ? chart.figure : notice('empty', 'No reliability bins yet.'),
    dataTable(
      `reliability bins of ${title}`,
      ['Predicted range', 'Impressions', 'Clicks', 'Mean predicted', 'Observed rate'],
      m.reliability.map((b) => [
        `${percent(b.lower, 1)} – ${percent(b.upper, 1)}`,
        count(b.impressions),
        count(b.clicks),
        percent(b.mean_prediction),
        percent(b.observed_rate),
      ]),
    ),
  );
  return { card, model: m, canvas: chart?.canvas ?? null };
}
