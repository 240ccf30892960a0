/**
 * Where every chart lives: a uPlot instance sized to its container, resized with it and
 * destroyed once the container leaves the page (each refresh replaces a view's content).
 */
import uPlot from 'uplot';

/** Distinct, readable on white, and apart for the common colour-vision deficiencies. */
export const PALETTE = ['#1d4ed8', '#c2410c', '#15803d', '#7e22ce', '#be123c', '#0e7490', '#a16207'];

export const AXIS = { stroke: '#334155', grid: { stroke: '#e2e8f0' }, ticks: { stroke: '#cbd5e1' } };

/** UTC, like the API and the tables. */
export const utcDate = (seconds: number) => uPlot.tzDate(new Date(seconds * 1000), 'Etc/UTC');

export function mountChart(
  container: HTMLElement,
  options: Omit<uPlot.Options, 'width' | 'height'>,
  data: uPlot.AlignedData,
  height = 240,
): uPlot {
  const width = () => Math.max(240, Math.floor(container.clientWidth || 560));
  const chart = new uPlot({ ...options, width: width(), height }, data, container);
  // For tests and tools: how many series and points the chart draws.
  container.dataset.series = String(data.length - 1);
  container.dataset.points = String(data[0]?.length ?? 0);
  const observer = new ResizeObserver(() => {
    if (!container.isConnected) {
      observer.disconnect();
      chart.destroy();
      return;
    }
    const w = width();
    if (Math.abs(w - chart.width) > 1) chart.setSize({ width: w, height });
  });
  observer.observe(container);
  return chart;
}
