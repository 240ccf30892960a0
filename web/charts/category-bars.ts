import uPlot from 'uplot';
import { AXIS, mountChart, PALETTE } from './chart-frame.js';

export interface CategoryBars {
  readonly categories: readonly string[];
  readonly label: string;
  readonly values: readonly (number | null)[];
  readonly format: (value: number) => string;
}

/** One bar per category (segments, variants): categories on the x axis in the order given. */
export function categoryBars(container: HTMLElement, spec: CategoryBars): uPlot {
  const n = spec.categories.length;
  const index = spec.categories.map((_, i) => i);
  return mountChart(
    container,
    {
      scales: {
        x: { time: false, range: () => [-0.5, n - 0.5] },
        y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.15 : 1] },
      },
      axes: [
        {
          ...AXIS,
          splits: () => index,
          values: (_u, splits) => splits.map((s) => spec.categories[s] ?? ''),
          grid: { show: false },
        },
        { ...AXIS, label: spec.label, values: (_u, splits) => splits.map((v) => spec.format(v)), size: 64 },
      ],
      legend: { show: false },
      cursor: { show: false },
      series: [
        {},
        {
          label: spec.label,
          stroke: PALETTE[0],
          fill: `${PALETTE[0]}cc`,
          paths: uPlot.paths.bars?.({ size: [0.6, 80], align: 0 }),
          points: { show: false },
        },
      ],
    },
    [index, [...spec.values]] as uPlot.AlignedData,
  );
}
