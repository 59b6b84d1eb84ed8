import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { html } from '../html.js';
import { formatDateTime, num } from '../format.js';

export interface Series { ts: number[]; values: Array<number | null> }

function css(name: string, fallback: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

/**
 * A uPlot line chart; dragging across it zooms in (double-click or the reset
 * button zooms out). `data-points` and `data-render-ms` say what was drawn and
 * how long it took, for tests and the benchmark.
 */
export function HistoryChart({ series, label, unit, onZoom }: { series: Series; label: string; unit: string; onZoom?: (zoomed: { from: number; to: number } | null) => void }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  useEffect(() => {
    const el = box.current!;
    const started = performance.now();
    const data: uPlot.AlignedData = [series.ts.map((t) => t / 1000), series.values];
    const opts: uPlot.Options = {
      width: Math.max(280, el.clientWidth),
      height: 280,
      tzDate: (ts) => new Date(ts * 1000),
      legend: { show: true },
      cursor: { drag: { x: true, y: false } },
      scales: { x: { time: true } },
      axes: [
        { stroke: css('--fg', '#222'), grid: { stroke: css('--grid', '#ddd') } },
        { stroke: css('--fg', '#222'), grid: { stroke: css('--grid', '#ddd') }, size: 60, values: (_u, ticks) => ticks.map((v) => num(v, Math.abs(v) < 10 ? 2 : 0)) },
      ],
      series: [
        { value: (_u, v) => (v === null ? '–' : formatDateTime(v * 1000)) },
        { label: `${label}${unit ? ` (${unit})` : ''}`, stroke: css('--accent', '#0a66c2'), width: 1.5, points: { show: series.ts.length < 80 }, value: (_u, v) => (v === null ? '–' : num(v, 2)) },
      ],
      hooks: {
        setScale: [(u, key) => {
          if (key !== 'x' || !onZoom) return;
          const min = u.scales.x!.min ?? 0;
          const max = u.scales.x!.max ?? 0;
          const whole = min <= data[0][0]! && max >= data[0][data[0].length - 1]!;
          onZoom(whole ? null : { from: Math.round(min * 1000), to: Math.round(max * 1000) });
        }],
      },
    };
    plot.current?.destroy();
    plot.current = new uPlot(opts, data, el);
    el.dataset['points'] = String(series.ts.length);
    el.dataset['renderMs'] = (performance.now() - started).toFixed(1);
    const resize = new ResizeObserver(() => plot.current?.setSize({ width: Math.max(280, el.clientWidth), height: 280 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, [series, label, unit]);
  const reset = () => {
    const u = plot.current;
    if (!u || !series.ts.length) return;
    u.setScale('x', { min: series.ts[0]! / 1000, max: series.ts[series.ts.length - 1]! / 1000 });
  };
  return html`<div>
    <div class="chart" ref=${box} data-testid="history-chart" role="img" aria-label=${`${label} history chart, ${series.ts.length} points`}></div>
    <button type="button" class="small" onClick=${reset}>Reset zoom</button>
  </div>`;
}
