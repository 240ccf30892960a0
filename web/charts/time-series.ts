import type uPlot from 'uplot';
import { AXIS, mountChart, PALETTE, utcDate } from './chart-frame.js';

export interface TimeSeries {
  readonly label: string;
  readonly values: readonly (number | null)[];
  /** The right-hand axis, for a second unit. */
  readonly right?: boolean;
  readonly dashed?: boolean;
}

export interface TimeSeriesChart {
  /** Start of each period, epoch ms. */
  readonly periods: readonly number[];
  readonly series: readonly TimeSeries[];
  readonly leftLabel: string;
  readonly rightLabel?: string;
  readonly format: (value: number) => string;
  readonly formatRight?: (value: number) => string;
}

/** Lines over the range's periods (UTC), one or two value axes. */
export function timeSeriesChart(container: HTMLElement, spec: TimeSeriesChart): uPlot {
  const tick = (f: (v: number) => string) => (_: uPlot, splits: number[]) =>
    splits.map((v) => (v === null ? '' : f(v)));
  const axes: uPlot.Axis[] = [
    { ...AXIS },
    { ...AXIS, scale: 'left', label: spec.leftLabel, values: tick(spec.format), size: 64 },
  ];
  if (spec.rightLabel) {
    axes.push({
      ...AXIS,
      scale: 'right',
      side: 1,
      grid: { show: false },
      label: spec.rightLabel,
      values: tick(spec.formatRight ?? spec.format),
      size: 64,
    });
  }
  return mountChart(
    container,
    {
      tzDate: utcDate,
      scales: { x: { time: true }, left: { auto: true }, right: { auto: true } },
      axes,
      series: [
        { label: 'Period (UTC)' },
        ...spec.series.map((s, i) => ({
          label: s.label,
          scale: s.right ? 'right' : 'left',
          stroke: PALETTE[i % PALETTE.length],
          width: 2,
          ...(s.dashed ? { dash: [6, 4] } : {}),
          points: { show: spec.periods.length <= 48, size: 5 },
          value: (_: uPlot, v: number | null) =>
            v === null ? '–' : (s.right ? (spec.formatRight ?? spec.format) : spec.format)(v),
        })),
      ],
    },
    [spec.periods.map((p) => p / 1000), ...spec.series.map((s) => [...s.values])] as uPlot.AlignedData,
  );
}
