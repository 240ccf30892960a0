/** Events flagged by the click-fraud rules, over time per rule, and in total per rule and site. */
import { fraudByRule, fraudTotals } from '../aggregate.js';
import type { FraudResponse } from '../api-types.js';
import { timeSeriesChart } from '../charts/time-series.js';
import { chartFigure, dataTable, notice, replaceContent } from '../dom.js';
import { count, decimal, utc } from '../format.js';
import { rangeQuery, type ViewContext } from './view-context.js';

export async function showFraudFlags(root: HTMLElement, ctx: ViewContext): Promise<void> {
  const res = await ctx.api.get<FraudResponse>('/analytics/fraud', {
    ...rangeQuery(ctx),
    granularity: ctx.range.granularity,
    limit: '10000',
  });
  if (res.rows.length === 0) {
    replaceContent(
      root,
      notice('empty', `No events flagged by the fraud rules from ${utc(res.from)} to ${utc(res.to)}.`),
    );
    return;
  }
  const series = fraudByRule(res.rows, ctx.range.periods);
  const chart = chartFigure('fraud', 'Flagged events per rule and period, UTC');
  replaceContent(
    root,
    chart.figure,
    res.truncated ? notice('info', 'More rows than one request returns: the newest periods may be incomplete.') : null,
    dataTable(
      'flagged events per rule and site over the range',
      ['Rule', 'Site', 'Flagged events', 'Impressions', 'Clicks', 'Highest score'],
      fraudTotals(res.rows).map((t) => [
        t.rule,
        t.site ?? '(none)',
        count(t.flaggedEvents),
        count(t.flaggedImpressions),
        count(t.flaggedClicks),
        decimal(t.maxScore, 2),
      ]),
    ),
  );
  timeSeriesChart(chart.canvas, {
    periods: ctx.range.periods,
    series: series.rules.map((rule, i) => ({ label: rule, values: series.counts[i]! })),
    leftLabel: 'Flagged events',
    format: (v) => count(v),
  });
}
