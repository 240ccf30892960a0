/** Ad performance over time: impressions and clicks, observed against predicted CTR. */
import { performanceByPeriod } from '../aggregate.js';
import type { AdPerformanceResponse } from '../api-types.js';
import { timeSeriesChart } from '../charts/time-series.js';
import { chartFigure, code, dataTable, figures, notice, replaceContent } from '../dom.js';
import { count, decimal, percent, utc } from '../format.js';
import { rangeQuery, type ViewContext } from './view-context.js';

export async function showAdPerformance(root: HTMLElement, ctx: ViewContext, adId: string): Promise<void> {
  const res = await ctx.api.get<AdPerformanceResponse>('/analytics/ad-performance', {
    ...rangeQuery(ctx),
    granularity: ctx.range.granularity,
    ad_id: adId || undefined,
    limit: '10000',
  });
  if (res.rows.length === 0) {
    replaceContent(
      root,
      notice(
        'empty',
        `No impressions${adId ? ` of ad ${adId}` : ''} from ${utc(res.from)} to ${utc(res.to)}. Send traffic (for example `,
        code('npx adclick simulate'),
        ') and refresh: events reach the analytics within seconds.',
      ),
    );
    return;
  }
  const points = performanceByPeriod(res.rows, ctx.range.periods);
  const sum = (f: (r: AdPerformanceResponse['rows'][number]) => number) => res.rows.reduce((a, r) => a + f(r), 0);
  const impressions = sum((r) => r.impressions);
  const clicks = sum((r) => r.clicks);
  const predicted = sum((r) => r.predicted_impressions);
  const predictedClicks = sum((r) => r.predicted_clicks);
  const meanPredicted =
    predicted > 0 ? sum((r) => (r.mean_predicted_ctr ?? 0) * r.predicted_impressions) / predicted : null;
  const observed = predicted > 0 ? predictedClicks / predicted : null;

  const volume = chartFigure('volume', 'Impressions (left) and clicks (right) per period, UTC');
  const rates = chartFigure('ctr', 'Observed CTR and mean predicted CTR per period, UTC');
  replaceContent(
    root,
    figures([
      ['Impressions', count(impressions)],
      ['Clicks', count(clicks)],
      ['CTR', percent(impressions > 0 ? clicks / impressions : null)],
      ['Mean predicted CTR', percent(meanPredicted)],
      [
        'Calibration (predicted / observed)',
        decimal(meanPredicted !== null && observed ? meanPredicted / observed : null, 3),
      ],
    ]),
    volume.figure,
    rates.figure,
    res.truncated ? notice('info', 'More rows than one request returns: the newest periods may be incomplete.') : null,
    dataTable(
      'ad performance per period',
      ['Period (UTC)', 'Impressions', 'Clicks', 'CTR', 'Mean predicted CTR', 'Observed CTR (predicted impressions)'],
      points
        .filter((p) => p.impressions > 0)
        .map((p) => [
          utc(p.period, ctx.range.granularity === 'day'),
          count(p.impressions),
          count(p.clicks),
          percent(p.ctr),
          percent(p.predictedCtr),
          percent(p.observedCtr),
        ]),
    ),
  );
  const periods = points.map((p) => p.period);
  timeSeriesChart(volume.canvas, {
    periods,
    series: [
      { label: 'Impressions', values: points.map((p) => p.impressions) },
      { label: 'Clicks', values: points.map((p) => p.clicks), right: true },
    ],
    leftLabel: 'Impressions',
    rightLabel: 'Clicks',
    format: (v) => count(v),
  });
  timeSeriesChart(rates.canvas, {
    periods,
    series: [
      { label: 'Observed CTR', values: points.map((p) => p.ctr) },
      { label: 'Mean predicted CTR', values: points.map((p) => p.predictedCtr), dashed: true },
    ],
    leftLabel: 'CTR',
    format: (v) => percent(v, 1),
  });
}
