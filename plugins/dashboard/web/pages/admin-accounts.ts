import { useEffect, useState } from 'preact/hooks';
import { html } from '../html.js';
import { api, ApiError, type ApiKey, type Role, type User } from '../api-client.js';
import { formatDateTime } from '../format.js';

const problem = (e: unknown) => (e instanceof ApiError && e.details.length ? `${e.message}: ${e.details.map((d) => `${d.path} ${d.message}`).join('; ')}` : (e as Error).message);

function useList<T>(load: () => Promise<T[]>): [T[] | null, () => void] {
  const [items, setItems] = useState<T[] | null>(null);
  const reload = () => { void load().then(setItems); };
  useEffect(reload, []);
  return [items, reload];
}

export function AdminUsersPage() {
  const [users, reload] = useList<User>(api.users);
  const [error, setError] = useState<string | null>(null);
  const act = (fn: () => Promise<unknown>) => fn().then(() => { setError(null); reload(); }, (e) => setError(problem(e)));
  const add = (e: Event) => {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const f = new FormData(form);
    void act(async () => {
      await api.createUser({ username: String(f.get('username')), password: String(f.get('password')), role: String(f.get('role')) as Role });
      form.reset();
    });
  };
  return html`<main id="main">
    <h1>Users</h1>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    <div class="scroll" tabindex="0" role="region" aria-label="Users table"><table>
      <thead><tr><th scope="col">User</th><th scope="col">Role</th><th scope="col">Actions</th></tr></thead>
      <tbody>${(users ?? []).map((u) => html`<tr data-user=${u.username}>
        <td>${u.username}</td><td>${u.role}</td>
        <td class="actions">
          <button type="button" class="small" onClick=${() => act(() => api.updateUser(u.id, { role: u.role === 'admin' ? 'viewer' : 'admin' }))}>Make ${u.role === 'admin' ? 'viewer' : 'admin'}</button>
          <button type="button" class="small danger" onClick=${() => confirm(`Delete ${u.username}?`) && act(() => api.deleteUser(u.id))}>Delete</button>
        </td></tr>`)}</tbody>
    </table></div>
    <form class="grid-form" onSubmit=${add} aria-labelledby="add-user-h">
      <h2 id="add-user-h">Add a user</h2>
      <label>Username <input name="username" required autocomplete="off" /></label>
      <label>Password <input name="password" type="password" required autocomplete="new-password" /></label>
      <label>Role <select name="role"><option value="viewer">viewer</option><option value="admin">admin</option></select></label>
      <button type="submit">Add user</button>
    </form>
  </main>`;
}

export function AdminKeysPage() {
  const [keys, reload] = useList<ApiKey>(api.keys);
  const [error, setError] = useState<string | null>(null);
  const [created, setCreated] = useState<{ name: string; key: string } | null>(null);
  const add = async (e: Event) => {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const f = new FormData(form);
    try {
      const k = await api.createKey({ name: String(f.get('name')), scopes: f.getAll('scopes').map(String) });
      setCreated({ name: k.name, key: k.key });
      setError(null);
      form.reset();
      reload();
    } catch (err) {
      setError(problem(err));
    }
  };
  return html`<main id="main">
    <h1>API keys</h1>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${created && html`<section class="notice" role="status" data-testid="new-key">
      <h2>Key "${created.name}" created</h2>
      <p>Copy it now: it is shown only once.</p>
      <pre><code>${created.key}</code></pre>
      <button type="button" class="small" onClick=${() => setCreated(null)}>Done</button>
    </section>`}
    <div class="scroll" tabindex="0" role="region" aria-label="API keys table"><table>
      <thead><tr><th scope="col">Name</th><th scope="col">Scopes</th><th scope="col">Created</th><th scope="col">Actions</th></tr></thead>
      <tbody>${(keys ?? []).map((k) => html`<tr>
        <td>${k.name}${k.prefix ? html` <code>${k.prefix}…</code>` : ''}</td><td>${k.scopes.join(', ')}</td>
        <td>${k.createdAt ? formatDateTime(new Date(k.createdAt)) : ''}</td>
        <td class="actions">${k.revokedAt ? 'revoked' : html`<button type="button" class="small danger" onClick=${() => confirm(`Revoke ${k.name}?`) && api.revokeKey(k.id).then(reload, (e2) => setError(problem(e2)))}>Revoke</button>`}</td>
      </tr>`)}</tbody>
    </table></div>
    <form class="grid-form" onSubmit=${add} aria-labelledby="add-key-h">
      <h2 id="add-key-h">Create a key</h2>
      <label>Name <input name="name" required /></label>
      <fieldset><legend>Scopes</legend>
        ${['read', 'ingest', 'meters:write'].map((s) => html`<label class="check"><input type="checkbox" name="scopes" value=${s} defaultChecked=${s === 'read'} /> ${s}</label>`)}
      </fieldset>
      <button type="submit">Create key</button>
    </form>
  </main>`;
}
