import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { html } from './html.js';
import { hasStoredSession, refreshAccess, session, signOut } from './api-client.js';
import { liveStore } from './live-store.js';
import { useRoute, type Route } from './router.js';
import { LoginPage } from './pages/login.js';
import { OverviewPage } from './pages/overview.js';
import { MeterPage } from './pages/meter.js';
import { StatusPage } from './pages/status.js';
import { AdminMetersPage } from './pages/admin-meters.js';
import { AdminUsersPage, AdminKeysPage } from './pages/admin-accounts.js';

// Restoring a session (a reload, a new visit in the same tab) starts before the first render, and the
// live stream's handshake runs beside the token refresh rather than after it.
const boot: Promise<unknown> = hasStoredSession() ? refreshAccess() : Promise.resolve(false);
if (hasStoredSession()) void liveStore.start();

function useSession(): boolean {
  const [signedIn, setSignedIn] = useState(session.signedIn);
  useEffect(() => session.onChange(() => setSignedIn(session.signedIn)), []);
  return signedIn;
}

function Nav({ route }: { route: Route }) {
  const admin = session.role === 'admin';
  const here = route.path.join('/');
  const link = (to: string, text: string) => html`<a href=${`#/${to}`} aria-current=${here === to ? 'page' : undefined}>${text}</a>`;
  return html`<header class="top">
    <a class="brand" href="#/">meterhub</a>
    <nav aria-label="Main">
      ${link('', 'Overview')}
      ${link('status', 'Status')}
      ${admin && html`${link('admin/meters', 'Meters')}${link('admin/users', 'Users')}${link('admin/keys', 'API keys')}`}
    </nav>
    <span class="who">${session.username}</span>
    <button type="button" class="link" onClick=${() => { liveStore.stop(); void signOut(); }}>Sign out</button>
  </header>`;
}

function Page({ route }: { route: Route }) {
  const [first, second] = route.path;
  const admin = session.role === 'admin';
  if (first === 'meter' && second) return html`<${MeterPage} id=${second} query=${route.query} />`;
  if (first === 'status') return html`<${StatusPage} />`;
  if (first === 'admin') {
    if (!admin) return html`<main id="main"><h1>Not allowed</h1><p>This page is for administrators.</p></main>`;
    if (second === 'meters') return html`<${AdminMetersPage} />`;
    if (second === 'users') return html`<${AdminUsersPage} />`;
    if (second === 'keys') return html`<${AdminKeysPage} />`;
  }
  return html`<${OverviewPage} />`;
}

function App() {
  const signedIn = useSession();
  const route = useRoute();
  const [restoring, setRestoring] = useState(true);
  useEffect(() => { void boot.finally(() => setRestoring(false)); }, []);
  useEffect(() => {
    if (signedIn) void liveStore.start();
    else if (!restoring) liveStore.stop();
  }, [signedIn, restoring]);
  if (restoring && !signedIn) return html`<main id="main" aria-busy="true"><p>Loading…</p></main>`;
  if (!signedIn) return html`<${LoginPage} />`;
  return html`<${Nav} route=${route} /><${Page} route=${route} />`;
}

render(html`<${App} />`, document.getElementById('app')!);
