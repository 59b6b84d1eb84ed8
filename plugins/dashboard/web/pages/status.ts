import { useEffect, useState } from 'preact/hooks';
import { html } from '../html.js';
import { api, type Health, type HostStatus } from '../api-client.js';
import { ago, duration, num } from '../format.js';
import { useLive } from '../components/use-live.js';

const ms = (v: number | null | undefined) => (v === null || v === undefined ? '–' : num(v, 1));

/** Failed requests by kind, only the kinds that happened. */
function errorKinds(errors: Record<string, number>): string {
  const parts = Object.entries(errors).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${num(n, 0)}`);
  return parts.length ? parts.join(', ') : 'none';
}

/**
 * The host's state: `/health/` for the states (buses, meters, plugins,
 * database) and `/api/status/` for the figures (per-bus requests, errors by
 * kind and latency, the ingest queue and spool, the event-loop delay).
 */
export function StatusPage() {
  // The meter list (authenticated) adds each meter's last error to what /health/ says.
  const store = useLive();
  const lastError = (id: string) => store.meters.find((m) => m.id === id)?.status.error ?? '';
  const [health, setHealth] = useState<Health | null>(null);
  const [figures, setFigures] = useState<HostStatus | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let alive = true;
    const load = () => Promise.all([api.health(), api.status()]).then(([h, f]) => {
      if (!alive) return;
      setHealth(h);
      setFigures(f);
      setError(null);
    }, (e: Error) => alive && setError(e.message));
    void load();
    const t = setInterval(load, 5000);
    return () => { alive = false; clearInterval(t); };
  }, []);
  if (error) return html`<main id="main"><h1>Status</h1><p class="error" role="alert">${error}</p></main>`;
  if (!health || !figures) return html`<main id="main" aria-busy="true"><h1>Status</h1><p>Loading…</p></main>`;
  const badge = (s: string) => html`<span class="badge badge-${s}">${s}</span>`;
  return html`<main id="main">
    <h1>Status ${badge(health.status)}</h1>
    <p>Version ${health.version}, up for ${duration(health.uptimeSeconds * 1000)}.</p>
    <section aria-labelledby="storage-h"><h2 id="storage-h">Storage</h2>
      <dl class="facts">
        <div><dt>Database</dt><dd>${health.database.engine ?? '–'} ${badge(health.database.reachable ? 'online' : 'offline')}</dd></div>
        <div><dt>Readings spooled on disk</dt><dd data-fig="spooled">${num(figures.storage?.spooled ?? health.database.spooled, 0)}</dd></div>
        ${figures.storage && html`<div><dt>Ingest queue (readings not yet written)</dt><dd data-fig="pending">${num(figures.storage.pending, 0)}</dd></div>
          <div><dt>Written since start</dt><dd data-fig="stored">${num(figures.storage.stored, 0)}</dd></div>
          ${figures.storage.spoolDropped > 0 && html`<div><dt>Dropped (spool full)</dt><dd>${num(figures.storage.spoolDropped, 0)}</dd></div>`}
          ${figures.storage.lastError && html`<div><dt>Last write error</dt><dd>${figures.storage.lastError.message} (${ago(Date.parse(figures.storage.lastError.at))})</dd></div>`}`}
        ${health.uplink && html`<div><dt>Uplink queue</dt><dd>${num(Number(health.uplink['queued'] ?? 0), 0)} readings, oldest ${num(Number(health.uplink['oldestAgeSeconds'] ?? 0), 0)} s</dd></div>`}
      </dl>
    </section>
    <section aria-labelledby="buses-h"><h2 id="buses-h">Buses</h2>
      <div class="scroll" tabindex="0" role="region" aria-label="Buses table"><table><thead><tr><th scope="col">Bus</th><th scope="col">State</th><th scope="col">Requests</th><th scope="col">Errors</th><th scope="col">Latency p50 / p95 / p99 (ms)</th><th scope="col">Last error</th></tr></thead>
      <tbody>${figures.buses.map((b) => html`<tr data-bus=${b.id}><td>${b.id}<br /><span class="muted">${b.description ?? b.transport}</span></td>
        <td>${badge(b.state === 'running' ? (b.connected ? 'connected' : 'offline') : b.state)}${b.message ? html`<br />${b.message}` : ''}</td>
        <td data-fig="requests">${num(b.requests, 0)}</td><td data-fig="errors">${errorKinds(b.errors)}</td>
        <td data-fig="latency">${ms(b.latencyMs?.p50)} / ${ms(b.latencyMs?.p95)} / ${ms(b.latencyMs?.p99)}</td>
        <td>${b.lastError ? `${b.lastError.message} (${ago(Date.parse(b.lastError.at))})` : ''}</td></tr>`)}</tbody></table></div>
    </section>
    ${figures.eventLoop && html`<section aria-labelledby="loop-h"><h2 id="loop-h">Event loop</h2>
      <dl class="facts">
        <div><dt>Delay p50 / p99 (last ${num(figures.eventLoop.windowSeconds, 0)} s)</dt><dd data-fig="loop">${ms(figures.eventLoop.p50Ms)} / ${ms(figures.eventLoop.p99Ms)} ms</dd></div>
        <div><dt>Max (same window)</dt><dd>${ms(figures.eventLoop.maxMs)} ms</dd></div>
        <div><dt>Worst since start</dt><dd>${ms(figures.eventLoop.worstMs)} ms${figures.eventLoop.worstAt ? ` (${ago(Date.parse(figures.eventLoop.worstAt))})` : ''}</dd></div>
        <div><dt>Readings taken</dt><dd>${num(figures.readings.taken, 0)}</dd></div>
      </dl>
    </section>`}
    <section aria-labelledby="meters-h"><h2 id="meters-h">Meters</h2>
      <div class="scroll" tabindex="0" role="region" aria-label="Meters table"><table><thead><tr><th scope="col">Meter</th><th scope="col">State</th><th scope="col">Last seen</th><th scope="col">Last error</th></tr></thead>
      <tbody>${health.meters.map((m) => html`<tr><td><a href=${`#/meter/${encodeURIComponent(m.id)}`}>${m.id}</a></td><td>${badge(m.state)}</td><td>${ago(m.lastSeen ? Date.parse(m.lastSeen) : null)}</td><td>${lastError(m.id)}</td></tr>`)}</tbody></table></div>
    </section>
    <section aria-labelledby="plugins-h"><h2 id="plugins-h">Plugins</h2>
      <div class="scroll" tabindex="0" role="region" aria-label="Plugins table"><table><thead><tr><th scope="col">Plugin</th><th scope="col">State</th></tr></thead>
      <tbody>${health.plugins.map((p) => html`<tr><td>${p.id}</td><td>${badge(p.state)}</td></tr>`)}</tbody></table></div>
    </section>
  </main>`;
}
