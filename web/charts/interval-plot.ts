import type uPlot from 'uplot';
import { AXIS, mountChart, PALETTE } from './chart-frame.js';

export interface Interval {
  readonly label: string;
  readonly estimate: number;
  readonly lower: number;
  readonly upper: number;
}

/**
 * Estimates with their confidence intervals (whiskers), one per category, and the zero line: an
 * interval that crosses it is not a difference yet.
 */
export function intervalPlot(
  container: HTMLElement,
  intervals: readonly Interval[],
  format: (v: number) => string,
): uPlot {
  const n = intervals.length;
  const index = intervals.map((_, i) => i);
  const lo = Math.min(0, ...intervals.map((i) => i.lower));
  const hi = Math.max(0, ...intervals.map((i) => i.upper));
  const pad = (hi - lo || 1) * 0.15;
  const whiskers = (u: uPlot) => {
    const { ctx } = u;
    ctx.save();
    ctx.lineWidth = 2 * devicePixelRatio;
    const zero = u.valToPos(0, 'y', true);
    ctx.strokeStyle = '#64748b';
    ctx.setLineDash([4 * devicePixelRatio, 4 * devicePixelRatio]);
    ctx.beginPath();
    ctx.moveTo(u.bbox.left, zero);
    ctx.lineTo(u.bbox.left + u.bbox.width, zero);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.strokeStyle = PALETTE[0]!;
    const cap = 8 * devicePixelRatio;
    intervals.forEach((iv, i) => {
      const x = u.valToPos(i, 'x', true);
      const y0 = u.valToPos(iv.lower, 'y', true);
      const y1 = u.valToPos(iv.upper, 'y', true);
      ctx.beginPath();
      ctx.moveTo(x, y0);
      ctx.lineTo(x, y1);
      ctx.moveTo(x - cap, y0);
      ctx.lineTo(x + cap, y0);
      ctx.moveTo(x - cap, y1);
      ctx.lineTo(x + cap, y1);
      ctx.stroke();
    });
    ctx.restore();
  };
  return mountChart(
    container,
    {
      scales: { x: { time: false, range: () => [-0.5, n - 0.5] }, y: { range: () => [lo - pad, hi + pad] } },
      axes: [
        {
          ...AXIS,
          splits: () => index,
          values: (_u, s) => s.map((i) => intervals[i]?.label ?? ''),
          grid: { show: false },
        },
        { ...AXIS, label: 'CTR lift vs control', values: (_u, s) => s.map(format), size: 64 },
      ],
      legend: { show: false },
      cursor: { show: false },
      hooks: { draw: [whiskers] },
      series: [{}, { label: 'Lift', stroke: PALETTE[0], width: 0, points: { show: true, size: 10, fill: PALETTE[0] } }],
    },
    [index, intervals.map((i) => i.estimate)] as uPlot.AlignedData,
    200,
  );
}
