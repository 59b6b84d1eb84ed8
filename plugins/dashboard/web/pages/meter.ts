import { useEffect, useMemo, useState } from 'preact/hooks';
import { html } from '../html.js';
import { api, type Meter } from '../api-client.js';
import { duration, formatDateTime, groupByPhase, label, MEASUREMENTS, measurementValue, timeZone } from '../format.js';
import { HistoryChart, type Series } from '../components/history-chart.js';
import { ConsumptionBars } from '../components/consumption-bars.js';
import { StateBadge } from '../components/state-badge.js';
import { useLive, useTick } from '../components/use-live.js';
import { replaceQuery } from '../router.js';

const RANGES = { hour: 3600_000, day: 86400_000, week: 7 * 86400_000, month: 31 * 86400_000, year: 366 * 86400_000 } as const;
type RangeName = keyof typeof RANGES | 'custom';

/** datetime-local wants local wall-clock time without a zone. */
const toLocalInput = (d: Date) => new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);

function rangeOf(query: URLSearchParams): { name: RangeName; from: Date; to: Date } {
  const name = (query.get('range') ?? 'day') as RangeName;
  if (name === 'custom') {
    const from = new Date(query.get('from') ?? '');
    const to = new Date(query.get('to') ?? '');
    if (!Number.isNaN(from.getTime()) && !Number.isNaN(to.getTime()) && from < to) return { name, from, to };
  }
  const span = RANGES[name as keyof typeof RANGES] ?? RANGES.day;
  const to = new Date();
  return { name: name in RANGES ? name : 'day', from: new Date(to.getTime() - span), to };
}

/** The export's resolution for a range: raw rows while they stay a reasonable file, rollups beyond. */
function exportResolution(from: Date, to: Date): string {
  const days = (to.getTime() - from.getTime()) / 86400_000;
  return days <= 2 ? 'raw' : days <= 93 ? '1m' : days <= 3660 ? '1h' : '1d';
}

function LiveValues({ values }: { values: Record<string, number> }) {
  const groups = groupByPhase(values);
  if (!groups.length) return html`<p>No values yet.</p>`;
  return html`<div class="phases">${groups.map((g) => html`<section class="phase" aria-label=${g.phase || 'System'}>
    <h3>${g.phase || 'System'}</h3>
    <dl>${g.ids.map((id) => html`<div><dt>${g.phase ? label(id).replace(` ${g.phase}`, '') : label(id)}</dt><dd data-measurement=${id}>${measurementValue(id, values[id])}</dd></div>`)}</dl>
  </section>`)}</div>`;
}

function History({ meter, query, measurements }: { meter: Meter; query: URLSearchParams; measurements: string[] }) {
  const range = rangeOf(query);
  const measurement = query.get('m') && measurements.includes(query.get('m')!) ? query.get('m')! : measurements.includes('power') ? 'power' : measurements[0];
  const family = MEASUREMENTS.get(measurement ?? '')?.family ?? 'power';
  const [answer, setAnswer] = useState<{ series: Series; resolution: string; bucketMs: number; truncated: boolean; from: Date; to: Date } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [zoomed, setZoomed] = useState<{ from: number; to: number } | null>(null);
  const key = `${range.name}|${range.from.getTime()}|${range.to.getTime()}|${measurement}`;
  const rangeKey = range.name === 'custom' ? key : `${range.name}|${measurement}`;
  useEffect(() => {
    if (!measurement) return;
    let alive = true;
    setError(null);
    setZoomed(null);
    api.history(meter.id, family, { from: range.from, to: range.to, measurements: [measurement], points: 1000 }).then((h) => {
      if (!alive) return;
      const ts = h.results.map((p) => Date.parse(p.timestamp));
      const gaps = ts.slice(1).map((t, i) => t - ts[i]!).sort((a, b) => a - b);
      setAnswer({
        series: { ts, values: h.results.map((p) => p.values[measurement] ?? null) },
        resolution: h.resolution,
        bucketMs: gaps[Math.floor(gaps.length / 2)] ?? 0,
        truncated: h.truncated || h.next !== null,
        from: range.from,
        to: range.to,
      });
    }, (e: Error) => alive && setError(e.message));
    return () => { alive = false; };
  }, [meter.id, rangeKey]);

  const set = (patch: Record<string, string>) => replaceQuery({ ...Object.fromEntries(query), ...patch });
  const [busy, setBusy] = useState<string | null>(null);
  // The range on screen: the zoomed part of the chart, else the range the chart was loaded for.
  const shown = zoomed ? { from: new Date(zoomed.from), to: new Date(zoomed.to + 1) } : answer ? { from: answer.from, to: answer.to } : range;
  const download = async (format: 'csv' | 'xlsx') => {
    setBusy(format);
    try {
      const { blob, filename } = await api.exportFile({ meters: [meter.id], format, family, from: shown.from, to: shown.to, measurements: measurement ? [measurement] : undefined, resolution: exportResolution(shown.from, shown.to), tz: timeZone } as Parameters<typeof api.exportFile>[0]);
      const a = document.createElement('a');
      a.href = URL.createObjectURL(blob);
      a.download = filename;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 60_000);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(null);
    }
  };
  const m = MEASUREMENTS.get(measurement ?? '');
  return html`<section aria-labelledby="history-h">
    <h2 id="history-h">History</h2>
    <div class="toolbar">
      <div class="segmented" role="group" aria-label="Range">
        ${(['hour', 'day', 'week', 'month', 'year', 'custom'] as const).map((r) => html`<button type="button" aria-pressed=${range.name === r}
          onClick=${() => set(r === 'custom' ? { range: r, from: range.from.toISOString(), to: range.to.toISOString() } : { range: r })}>${r}</button>`)}
      </div>
      <label>Measurement <select value=${measurement} onChange=${(e: Event) => set({ m: (e.target as HTMLSelectElement).value })}>
        ${measurements.map((id) => html`<option value=${id}>${label(id)}</option>`)}
      </select></label>
    </div>
    ${range.name === 'custom' && html`<form class="toolbar" key=${`${range.from.getTime()}-${range.to.getTime()}`} onSubmit=${(e: Event) => {
      e.preventDefault();
      const f = new FormData(e.target as HTMLFormElement);
      set({ range: 'custom', from: new Date(String(f.get('from'))).toISOString(), to: new Date(String(f.get('to'))).toISOString() });
    }}>
      <label>From <input type="datetime-local" name="from" defaultValue=${toLocalInput(range.from)} required /></label>
      <label>To <input type="datetime-local" name="to" defaultValue=${toLocalInput(range.to)} required /></label>
      <button type="submit">Show</button>
    </form>`}
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${answer && html`<p class="muted" data-testid="bucket">
      ${answer.series.ts.length} points, resolution ${answer.resolution}${answer.bucketMs ? `, one point per ${duration(answer.bucketMs)}` : ''}${answer.truncated ? ' (truncated)' : ''}${zoomed ? ` · zoomed to ${formatDateTime(zoomed.from)} – ${formatDateTime(zoomed.to)}; downloads take this part` : ' · drag across the chart to zoom'}
    </p>
    <${HistoryChart} series=${answer.series} label=${label(measurement!)} unit=${m?.unit ?? ''} onZoom=${setZoomed} />`}
    <div class="toolbar">
      <button type="button" onClick=${() => download('csv')} disabled=${busy !== null}>Download CSV</button>
      <button type="button" onClick=${() => download('xlsx')} disabled=${busy !== null}>Download Excel</button>
    </div>
  </section>`;
}

export function MeterPage({ id, query }: { id: string; query: URLSearchParams }) {
  const store = useLive();
  useTick(5000);
  const meter = store.meters.find((m) => m.id === id);
  const live = store.entry(id);
  const [energy, setEnergy] = useState<Record<string, number>>({});
  useEffect(() => {
    api.latest(id, 'energy').then((l) => setEnergy(l.values), () => undefined);
  }, [id]);
  const values = { ...energy, ...live.values };
  const keys = Object.keys(values).sort().join(',');
  const measurements = useMemo(() => Object.keys(values).filter((k) => MEASUREMENTS.has(k)).sort((a, b) => (a === 'power' ? -1 : b === 'power' ? 1 : a.localeCompare(b))), [keys]);
  if (!store.loaded) return html`<main id="main" aria-busy="true"><p>Loading…</p></main>`;
  if (!meter) return html`<main id="main"><h1>No meter "${id}"</h1><p><a href="#/">Back to the overview</a></p></main>`;
  return html`<main id="main" data-meter=${id} data-state=${live.state}>
    <h1>${meter.name || meter.id}</h1>
    <p><${StateBadge} state=${live.state} lastSeen=${live.lastSeen} /> <span class="muted"> · ${meter.driver}${meter.bus ? ` on ${meter.bus}, unit ${meter.unitId}` : ''}</span></p>
    <section aria-labelledby="live-h"><h2 id="live-h">Live values</h2><${LiveValues} values=${values} /></section>
    ${measurements.length > 0 && html`<${History} meter=${meter} query=${query} measurements=${measurements} />`}
    <${ConsumptionBars} meterId=${id} />
  </main>`;
}
