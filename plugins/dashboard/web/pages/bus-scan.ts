import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from '../html.js';
import { api, ApiError, type Scan } from '../api-client.js';

const POLL_MS = 400;

function problem(e: unknown): string {
  if (e instanceof ApiError && e.details.length) return `${e.message}: ${e.details.map((d) => `${d.path} ${d.message}`).join('; ')}`;
  return (e as Error).message;
}

/** A meter id for a unit found on a bus; the admin can rename the meter afterwards. */
const meterIdFor = (bus: string, unitId: number) => `${bus}-${unitId}`.replace(/[^A-Za-z0-9_-]/g, '_');

/**
 * Scans a bus for unit ids (`POST /api/buses/{id}/scan/`, then its progress
 * every 400 ms) and adds a found meter in one click. The host runs the scan
 * between the bus's polls, so the meters on it keep being read.
 */
export function BusScan({ buses, onAdded }: { buses: string[]; onAdded: () => void }) {
  const [scan, setScan] = useState<Scan | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [added, setAdded] = useState<Record<number, string>>({});
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);

  const follow = (s: Scan) => {
    setScan(s);
    if (s.state !== 'running') return;
    timer.current = setTimeout(() => void api.scan(s.bus, s.id).then(follow, (e) => setError(problem(e))), POLL_MS);
  };
  const start = (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    setError(null);
    setAdded({});
    api.startScan(String(f.get('bus')), { from: Number(f.get('from')), to: Number(f.get('to')) }).then(follow, (err) => setError(problem(err)));
  };
  const add = (unitId: number, driver: string) => {
    const id = meterIdFor(scan!.bus, unitId);
    api.createMeter({ id, driver, bus: scan!.bus, unitId }).then(() => {
      setAdded((a) => ({ ...a, [unitId]: id }));
      onAdded();
    }, (err) => setError(problem(err)));
  };
  const running = scan?.state === 'running';
  const known = (unitId: number) => added[unitId] ?? scan?.configured[String(unitId)];
  return html`<section aria-labelledby="scan-h">
    <form class="grid-form" onSubmit=${start} aria-labelledby="scan-h">
      <h2 id="scan-h">Scan a bus for meters</h2>
      <label>Bus <select name="bus" required>${buses.map((b) => html`<option value=${b}>${b}</option>`)}</select></label>
      <label>From unit id <input name="from" type="number" min="1" max="247" defaultValue="1" required /></label>
      <label>To unit id <input name="to" type="number" min="1" max="247" defaultValue="247" required /></label>
      <button type="submit" disabled=${running || buses.length === 0}>Scan</button>
      ${running && html`<button type="button" onClick=${() => void api.cancelScan(scan!.bus, scan!.id).catch((e) => setError(problem(e)))}>Stop</button>`}
    </form>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${scan && html`<div class="scan-progress">
      <label for="scan-bar">${running ? `Trying unit ${scan.progress.unitId}` : `Scan ${scan.state}`}: ${scan.progress.done} of ${scan.progress.total} unit ids, ${scan.progress.found} found</label>
      <progress id="scan-bar" max=${scan.progress.total} value=${scan.progress.done}></progress>
      ${scan.error && html`<p class="error" role="alert">${scan.error.message}</p>`}
    </div>`}
    ${scan && scan.found.length > 0 && html`<div class="scroll" tabindex="0" role="region" aria-label="Units found"><table>
      <thead><tr><th scope="col">Unit id</th><th scope="col">Model</th><th scope="col">Driver</th><th scope="col">Meter</th></tr></thead>
      <tbody>${scan.found.map((h) => html`<tr data-unit=${h.unitId}>
        <td>${h.unitId}</td>
        <td>${h.model ?? 'not recognised'}${h.ambiguous ? html`<br /><span class="muted">could also be ${[...h.alternatives.map((a) => a.model), ...h.lookalikes.map((l) => l.model)].join(', ')}</span>` : ''}</td>
        <td>${h.driver ?? '–'}</td>
        <td>${known(h.unitId) ? html`<a href=${`#/meter/${encodeURIComponent(known(h.unitId)!)}`}>${known(h.unitId)}</a>`
          : h.driver ? html`<button type="button" class="small" onClick=${() => add(h.unitId, h.driver!)}>Add as ${meterIdFor(scan.bus, h.unitId)}</button>` : ''}</td>
      </tr>`)}</tbody>
    </table></div>`}
  </section>`;
}
