import { useEffect, useState } from 'preact/hooks';
import { html } from '../html.js';
import { api, ApiError, type Meter } from '../api-client.js';
import { BusScan } from './bus-scan.js';
import { liveStore } from '../live-store.js';
import { useLive } from '../components/use-live.js';

function problem(e: unknown): string {
  if (e instanceof ApiError && e.details.length) return `${e.message}: ${e.details.map((d) => `${d.path} ${d.message}`).join('; ')}`;
  return (e as Error).message;
}

function MeterForm({ buses, onDone }: { buses: string[]; onDone: () => void }) {
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    const body: Record<string, unknown> = { id: String(f.get('id')), driver: String(f.get('driver')) };
    if (f.get('name')) body['name'] = String(f.get('name'));
    if (f.get('bus')) {
      body['bus'] = String(f.get('bus'));
      body['unitId'] = Number(f.get('unitId'));
    }
    try {
      await api.createMeter(body);
      (e.target as HTMLFormElement).reset();
      setError(null);
      onDone();
    } catch (err) {
      setError(problem(err));
    }
  };
  return html`<form class="grid-form" onSubmit=${submit} aria-labelledby="add-h">
    <h2 id="add-h">Add a meter</h2>
    <label>Id <input name="id" required pattern="[A-Za-z0-9_\\-]+" /></label>
    <label>Name <input name="name" /></label>
    <label>Driver <input name="driver" required list="drivers" /></label>
    <datalist id="drivers"><option value="sdm630" /><option value="sdm230" /></datalist>
    <label>Bus (empty for a pushed meter) <select name="bus"><option value="">none</option>${buses.map((b) => html`<option value=${b}>${b}</option>`)}</select></label>
    <label>Unit id <input name="unitId" type="number" min="1" max="247" defaultValue="1" /></label>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    <button type="submit">Add meter</button>
  </form>`;
}

// Forms here are uncontrolled (defaultValue): the page re-renders with every live reading, and a
// controlled `value` would put back the old text while someone types.
function EditForm({ meter, buses, onDone }: { meter: Meter; buses: string[]; onDone: (e?: string) => void }) {
  const submit = (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    const patch: Record<string, unknown> = { name: String(f.get('name')) };
    if (f.get('bus')) {
      patch['bus'] = String(f.get('bus'));
      patch['unitId'] = Number(f.get('unitId'));
    }
    if (meter.intervals) patch['intervals'] = { instantMs: Number(f.get('instantMs')), counterMs: Number(f.get('counterMs')) };
    api.updateMeter(meter.id, patch).then(() => onDone(), (err) => onDone(problem(err)));
  };
  return html`<form class="grid-form" onSubmit=${submit} aria-labelledby="edit-h" data-edit=${meter.id}>
    <h2 id="edit-h">Edit ${meter.id}</h2>
    <label>Name <input name="name" defaultValue=${meter.name ?? ''} /></label>
    ${meter.bus && html`<label>Bus <select name="bus">${buses.map((b) => html`<option value=${b} selected=${b === meter.bus}>${b}</option>`)}</select></label>
      <label>Unit id <input name="unitId" type="number" min="1" max="247" defaultValue=${meter.unitId} /></label>`}
    ${meter.intervals && html`<label>Instant values every (ms) <input name="instantMs" type="number" min="100" defaultValue=${meter.intervals.instantMs} /></label>
      <label>Counters every (ms) <input name="counterMs" type="number" min="100" defaultValue=${meter.intervals.counterMs} /></label>`}
    <button type="submit">Save</button>
    <button type="button" onClick=${() => onDone()}>Cancel</button>
  </form>`;
}

function Row({ meter, onChange, onEdit }: { meter: Meter; onChange: (e?: string) => void; onEdit: () => void }) {
  const readOnly = meter.source === 'config';
  const act = (fn: () => Promise<unknown>) => fn().then(() => onChange(), (e) => onChange(problem(e)));
  return html`<tr data-meter=${meter.id}>
    <td>${meter.id}</td><td>${meter.name ?? ''}</td><td>${meter.driver}</td><td>${meter.bus ? `${meter.bus} / ${meter.unitId}` : 'pushed'}</td>
    <td><span class="badge badge-${meter.status.state}">${meter.status.state}</span></td>
    <td class="actions">${readOnly ? html`<span class="muted">config file</span>` : html`
      <button type="button" class="small" onClick=${onEdit}>Edit</button>
      <button type="button" class="small" onClick=${() => act(() => api.updateMeter(meter.id, { enabled: meter.enabled === false }))}>${meter.enabled === false ? 'Enable' : 'Disable'}</button>
      <button type="button" class="small danger" onClick=${() => confirm(`Delete ${meter.id} and all its history?`) && act(() => api.deleteMeter(meter.id))}>Delete</button>`}
    </td>
  </tr>`;
}

/** Meters: add (polled or pushed), edit, disable, delete, scan a bus. Config-file meters are read-only over the API. */
export function AdminMetersPage() {
  const store = useLive();
  const [buses, setBuses] = useState<string[]>([]);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => { void api.buses().then((list) => setBuses(list.map((b) => b.id))); }, []);
  const [editing, setEditing] = useState<string | null>(null);
  const changed = (e?: string) => { setError(e ?? null); void liveStore.reload(); };
  const edited = store.meters.find((m) => m.id === editing);
  return html`<main id="main">
    <h1>Meters</h1>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    <div class="scroll" tabindex="0" role="region" aria-label="Meters table"><table>
      <thead><tr><th scope="col">Id</th><th scope="col">Name</th><th scope="col">Driver</th><th scope="col">Bus / unit</th><th scope="col">State</th><th scope="col">Actions</th></tr></thead>
      <tbody>${store.meters.map((m) => html`<${Row} key=${m.id} meter=${m} onChange=${changed} onEdit=${() => setEditing(m.id)} />`)}</tbody>
    </table></div>
    ${edited && html`<${EditForm} key=${edited.id} meter=${edited} buses=${buses} onDone=${(e?: string) => { setEditing(null); changed(e); }} />`}
    <${MeterForm} buses=${buses} onDone=${() => changed()} />
    <${BusScan} buses=${buses} onAdded=${() => changed()} />
  </main>`;
}
