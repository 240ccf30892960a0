import type uPlot from 'uplot';
import { AXIS, mountChart, PALETTE } from './chart-frame.js';

export interface ReliabilityPoint {
  readonly meanPrediction: number;
  readonly observedRate: number;
}

/**
 * Observed click rate against mean predicted probability per bin, with the diagonal a perfectly
 * calibrated model would follow: above it the model under-predicts, below it over-predicts.
 */
export function reliabilityDiagram(container: HTMLElement, points: readonly ReliabilityPoint[]): uPlot {
  const sorted = [...points].sort((a, b) => a.meanPrediction - b.meanPrediction);
  const xs = sorted.map((p) => p.meanPrediction);
  const top = Math.max(0.001, ...sorted.map((p) => Math.max(p.meanPrediction, p.observedRate))) * 1.1;
  const pct = (v: number) => `${(v * 100).toFixed(v < 0.01 ? 2 : 1)} %`;
  return mountChart(
    container,
    {
      scales: { x: { time: false, range: () => [0, top] }, y: { range: () => [0, top] } },
      axes: [
        { ...AXIS, label: 'Mean predicted probability', values: (_u, s) => s.map(pct) },
        { ...AXIS, label: 'Observed click rate', values: (_u, s) => s.map(pct), size: 64 },
      ],
      series: [
        { label: 'Predicted', value: (_u, v) => (v === null ? '–' : pct(v)) },
        {
          label: 'Observed',
          stroke: PALETTE[0],
          width: 2,
          points: { show: true, size: 7, fill: PALETTE[0] },
          value: (_u, v) => (v === null ? '–' : pct(v)),
        },
        { label: 'Perfect calibration', stroke: '#64748b', width: 1, dash: [5, 5], points: { show: false } },
      ],
    },
    [xs, sorted.map((p) => p.observedRate), xs] as uPlot.AlignedData,
    260,
  );
}
