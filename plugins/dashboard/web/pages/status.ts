import { useEffect, useState } from 'preact/hooks';
import { html } from '../html.js';
import { api, type Health } from '../api-client.js';
import { ago, duration, num } from '../format.js';
import { useLive } from '../components/use-live.js';

/**
 * The host's state from `/health/`, the one status answer the API gives today:
 * buses (state, connected), meters (state, last seen), plugins, the database
 * and the spool. Per-bus request counts, latency and event-loop delay are not
 * in any API answer yet (docs/dashboard.md).
 */
export function StatusPage() {
  // The meter list (authenticated) adds each meter's last error to what /health/ says.
  const store = useLive();
  const lastError = (id: string) => store.meters.find((m) => m.id === id)?.status.error ?? '';
  const [health, setHealth] = useState<Health | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let alive = true;
    const load = () => api.health().then((h) => alive && setHealth(h), (e: Error) => alive && setError(e.message));
    void load();
    const t = setInterval(load, 5000);
    return () => { alive = false; clearInterval(t); };
  }, []);
  if (error) return html`<main id="main"><h1>Status</h1><p class="error" role="alert">${error}</p></main>`;
  if (!health) return html`<main id="main" aria-busy="true"><h1>Status</h1><p>Loading…</p></main>`;
  const badge = (s: string) => html`<span class="badge badge-${s}">${s}</span>`;
  return html`<main id="main">
    <h1>Status ${badge(health.status)}</h1>
    <p>Version ${health.version}, up for ${duration(health.uptimeSeconds * 1000)}.</p>
    <section aria-labelledby="storage-h"><h2 id="storage-h">Storage</h2>
      <dl class="facts">
        <div><dt>Database</dt><dd>${health.database.engine ?? '–'} ${badge(health.database.reachable ? 'online' : 'offline')}</dd></div>
        <div><dt>Readings spooled on disk</dt><dd>${num(health.database.spooled, 0)}</dd></div>
        ${health.uplink && html`<div><dt>Uplink queue</dt><dd>${num(Number(health.uplink['queued'] ?? 0), 0)} readings, oldest ${num(Number(health.uplink['oldestAgeSeconds'] ?? 0), 0)} s</dd></div>`}
      </dl>
    </section>
    <section aria-labelledby="buses-h"><h2 id="buses-h">Buses</h2>
      <div class="scroll" tabindex="0" role="region" aria-label="Buses table"><table><thead><tr><th scope="col">Bus</th><th scope="col">State</th><th scope="col">Connected</th></tr></thead>
      <tbody>${health.buses.map((b) => html`<tr><td>${b.id}</td><td>${badge(b.state)}</td><td>${b.connected ? 'yes' : 'no'}</td></tr>`)}</tbody></table></div>
    </section>
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
