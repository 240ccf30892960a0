/** CTR by user segment: device type, location or activity level. */
import type { UserSegmentsResponse } from '../api-types.js';
import { categoryBars } from '../charts/category-bars.js';
import { chartFigure, dataTable, notice, replaceContent } from '../dom.js';
import { count, percent, utc } from '../format.js';
import { rangeQuery, type ViewContext } from './view-context.js';

/** Bars stay readable up to about this many segments; the table has them all. */
const MAX_BARS = 12;

export const DIMENSIONS = [
  { value: 'device_type', label: 'Device type' },
  { value: 'location', label: 'Location' },
  { value: 'activity', label: 'Activity level' },
] as const;

export async function showUserSegments(root: HTMLElement, ctx: ViewContext, dimension: string): Promise<void> {
  const res = await ctx.api.get<UserSegmentsResponse>('/analytics/user-segments', {
    ...rangeQuery(ctx),
    dimension,
    limit: '200',
  });
  const label = DIMENSIONS.find((d) => d.value === dimension)?.label.toLowerCase() ?? dimension;
  if (res.segments.length === 0) {
    replaceContent(
      root,
      notice('empty', `No impressions from ${utc(res.from)} to ${utc(res.to)} to segment by ${label}.`),
    );
    return;
  }
  const name = (s: string | null) => s ?? '(not reported)';
  const shown = res.segments.slice(0, MAX_BARS);
  const chart = chartFigure(
    'segments',
    `CTR by ${label}${res.segments.length > MAX_BARS ? `, the ${MAX_BARS} largest segments` : ''}`,
  );
  replaceContent(
    root,
    chart.figure,
    dataTable(
      `segments by ${label}, most impressions first`,
      ['Segment', 'Users', 'Impressions', 'Clicks', 'CTR'],
      res.segments.map((s) => [name(s.segment), count(s.users), count(s.impressions), count(s.clicks), percent(s.ctr)]),
    ),
  );
  categoryBars(chart.canvas, {
    categories: shown.map((s) => name(s.segment)),
    label: 'CTR',
    values: shown.map((s) => s.ctr),
    format: (v) => percent(v, 1),
  });
}
