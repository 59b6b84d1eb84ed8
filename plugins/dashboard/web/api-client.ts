/**
 * Every assumption the dashboard makes about the host's public API lives here:
 * paths, query parameters, answer shapes, token handling. docs/rest-api.md,
 * docs/live-stream.md and docs/export.md are the contracts.
 */
import { io, type Socket } from 'socket.io-client';

export type Role = 'admin' | 'viewer';
export interface MeterStatus { online: boolean; state: string; lastSeen: string | null; error: string | null }
export interface Meter {
  id: string; name?: string; driver: string; bus?: string; unitId?: number; enabled?: boolean; source?: string;
  intervals?: { instantMs: number; counterMs: number };
  status: MeterStatus;
}
export interface HistoryAnswer { resolution: string; count: number; next: string | null; truncated: boolean; results: Array<{ timestamp: string; values: Record<string, number> }> }
/** What a period cost, when the meter has a tariff (docs/costs.md). */
export interface PeriodCost { tariff: string; currency: string; importCost: number; exportCredit: number; standingCharge: number; net: number }
export interface ConsumptionAnswer { period: string; tz: string; results: Array<{ start: string; end: string; values: Record<string, number>; cost?: PeriodCost }> }
export interface User { id: number; username: string; role: Role; active?: boolean }
export interface ApiKey { id: number; name: string; prefix?: string; scopes: string[]; createdAt?: string; revokedAt?: string | null }
export interface Health {
  status: string; version: string; uptimeSeconds: number;
  database: { engine: string | null; reachable: boolean; spooled: number };
  plugins: Array<{ id: string; state: string }>;
  buses: Array<{ id: string; state: string; connected: boolean }>;
  meters: Array<{ id: string; state: string; lastSeen: string | null }>;
  uplink?: Record<string, unknown>;
}
/** `GET /api/status/`: what `meterhub status` shows, for the status page. */
export interface HostStatus {
  version: string; uptimeSeconds: number;
  buses: Array<{
    id: string; transport: string; state: string; message?: string; connected: boolean; description?: string;
    requests: number; errors: Record<string, number>; reconnects: number;
    latencyMs: { p50: number | null; p95: number | null; p99: number | null; samples: number } | null;
    lastError: { message: string; at: string } | null;
  }>;
  storage: { engine: string; pending: number; stored: number; spooled: number; spoolDropped: number; lastError: { message: string; at: string } | null } | null;
  eventLoop: { p50Ms: number; p99Ms: number; maxMs: number; windowSeconds: number; worstMs: number; worstAt: string | null } | null;
  readings: { taken: number; replays: number };
}
export interface Bus { id: string; transport: string; running: boolean }
export interface ScanHit { unitId: number; driver: string | null; model: string | null; ambiguous: boolean; alternatives: Array<{ driver: string; model: string }>; lookalikes: Array<{ model: string; note?: string }> }
/** A bus scan (`/api/buses/{id}/scan/{scanId}/`). */
export interface Scan {
  id: string; bus: string; state: 'running' | 'done' | 'cancelled' | 'failed';
  progress: { done: number; total: number; unitId: number; found: number };
  found: ScanHit[]; configured: Record<string, string>; error: { code: string; message: string } | null;
}
export interface LiveReading { meterId: string; ts: number; values: Record<string, number> }
export interface LiveState { meterId: string; state: string; at: string; error?: string }
export interface LiveSnapshot { meterId: string; ts: number | null; values: Record<string, number>; state: string }

/** An error answer of the API: `{error: {code, message, details}}`. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly details: Array<{ path: string; message: string }> = []) {
    super(message);
  }
}

// The refresh token survives a reload of this tab but not the tab itself, and is
// never in localStorage (shared by every tab and kept forever). The access token
// lives only in memory. See docs/dashboard.md.
const REFRESH_KEY = 'meterhub.refresh';
const USER_KEY = 'meterhub.user';
let access: string | null = null;
const sessionListeners = new Set<() => void>();

export const session = {
  get access(): string | null { return access; },
  get signedIn(): boolean { return access !== null; },
  /** The role claim of the access token (the API checks it; the page only hides what would be refused). */
  get role(): Role | null { return access ? (claims(access)['role'] as Role) ?? null : null; },
  /** The name typed at sign-in (tokens carry only the user id); not a secret. */
  get username(): string | null { return access ? sessionStorage.getItem(USER_KEY) : null; },
  onChange(fn: () => void): () => void { sessionListeners.add(fn); return () => sessionListeners.delete(fn); },
};

function claims(token: string): Record<string, unknown> {
  try {
    const part = token.split('.')[1] ?? '';
    return JSON.parse(atob(part.replace(/-/g, '+').replace(/_/g, '/'))) as Record<string, unknown>;
  } catch {
    return {};
  }
}

function setTokens(a: string | null, refresh?: string | null): void {
  access = a;
  if (refresh === null) sessionStorage.removeItem(REFRESH_KEY);
  else if (refresh !== undefined) sessionStorage.setItem(REFRESH_KEY, refresh);
  for (const fn of sessionListeners) fn();
}

/**
 * A host path ('/api/meters/') as a URL below the folder the page was served
 * from, so the dashboard works under a base path (http.basePath, e.g. behind a
 * proxy at /meterhub/) as at the root. The API's absolute links pass as they are.
 */
export const hostUrl = (path: string): string => (path.startsWith('/') ? new URL(`.${path}`, document.baseURI).href : path);

async function errorOf(res: Response): Promise<ApiError> {
  let body: { error?: { code?: string; message?: string; details?: Array<{ path: string; message: string }> } } = {};
  try { body = await res.json(); } catch { /* not JSON */ }
  return new ApiError(res.status, body.error?.code ?? 'HTTP', body.error?.message ?? res.statusText, body.error?.details ?? []);
}

export async function signIn(username: string, password: string): Promise<void> {
  const res = await fetch(hostUrl('/api/token/'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
  if (!res.ok) throw await errorOf(res);
  const pair = (await res.json()) as { access: string; refresh: string };
  sessionStorage.setItem(USER_KEY, username);
  setTokens(pair.access, pair.refresh);
}

let refreshing: Promise<boolean> | null = null;
/** True when this tab holds a refresh token from an earlier sign-in. */
export const hasStoredSession = (): boolean => sessionStorage.getItem(REFRESH_KEY) !== null;

/** Trades the stored refresh token for a new access token; false when there is none or it was revoked. */
export function refreshAccess(): Promise<boolean> {
  refreshing ??= (async () => {
    const refresh = sessionStorage.getItem(REFRESH_KEY);
    if (!refresh) return false;
    const res = await fetch(hostUrl('/api/token/refresh/'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refresh }) });
    if (!res.ok) {
      setTokens(null, null);
      return false;
    }
    setTokens(((await res.json()) as { access: string }).access);
    return true;
  })().finally(() => { refreshing = null; });
  return refreshing;
}

export async function signOut(): Promise<void> {
  const refresh = sessionStorage.getItem(REFRESH_KEY);
  setTokens(null, null);
  if (refresh) await fetch(hostUrl('/api/token/revoke/'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refresh }) }).catch(() => undefined);
}

/** Whether the host has no account yet (served by the dashboard plugin, not the REST API). */
export async function setupState(): Promise<{ needsFirstAdmin: boolean; command: string }> {
  const res = await fetch(hostUrl('/dashboard/setup.json'));
  if (!res.ok) return { needsFirstAdmin: false, command: 'meterhub user add NAME --role admin' };
  return res.json();
}

/** A request with the access token; one refresh and retry on 401. */
export async function request(method: string, path: string, body?: unknown): Promise<Response> {
  // A request started while the session is being restored waits for the token instead of earning a 401.
  if (refreshing) await refreshing;
  const send = () => fetch(hostUrl(path), {
    method,
    headers: { ...(access ? { authorization: `Bearer ${access}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  let res = await send();
  if (res.status === 401 && (await refreshAccess())) res = await send();
  if (res.status === 401) setTokens(null, null);
  if (!res.ok) throw await errorOf(res);
  return res;
}

async function json<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await request(method, path, body);
  return (res.status === 204 ? undefined : await res.json()) as T;
}

const qs = (params: Record<string, string | number | undefined>) =>
  Object.entries(params).filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`).join('&');

async function allPages<T>(path: string): Promise<T[]> {
  const out: T[] = [];
  let next: string | null = `${path}?limit=500`;
  while (next) {
    const page: { results: T[]; next: string | null } = await json('GET', next);
    out.push(...page.results);
    next = page.next;
  }
  return out;
}

export const api = {
  meters: () => allPages<Meter>('/api/meters/'),
  meter: (id: string) => json<Meter>('GET', `/api/meters/${encodeURIComponent(id)}/`),
  createMeter: (m: Record<string, unknown>) => json<Meter>('POST', '/api/meters/', m),
  updateMeter: (id: string, patch: Record<string, unknown>) => json<Meter>('PATCH', `/api/meters/${encodeURIComponent(id)}/`, patch),
  deleteMeter: (id: string) => json<void>('DELETE', `/api/meters/${encodeURIComponent(id)}/`),
  latest: (id: string, family: 'power' | 'energy') =>
    json<{ timestamp: string; values: Record<string, number> }>('GET', `/api/meters/${encodeURIComponent(id)}/${family}/latest/`),
  /** History of one range, following `next` pages (at most `maxPages`). */
  async history(id: string, family: 'power' | 'energy', q: { from: Date; to: Date; measurements?: string[]; points?: number; resolution?: string }, maxPages = 10): Promise<HistoryAnswer> {
    let url: string | null = `/api/meters/${encodeURIComponent(id)}/${family}/history/?${qs({ from: q.from.toISOString(), to: q.to.toISOString(), measurements: q.measurements?.join(','), points: q.points ?? 1000, resolution: q.resolution ?? 'auto' })}`;
    let first: HistoryAnswer | null = null;
    for (let i = 0; url && i < maxPages; i++) {
      const page: HistoryAnswer = await json('GET', url);
      if (first) first.results.push(...page.results);
      else first = page;
      first.next = page.next;
      url = page.next;
    }
    first!.count = first!.results.length;
    return first!;
  },
  consumption: (id: string, q: { period: 'day' | 'week' | 'month'; tz: string; from: Date; to: Date; measurements?: string[] }) =>
    json<ConsumptionAnswer>('GET', `/api/meters/${encodeURIComponent(id)}/energy/consumption/?${qs({ period: q.period, tz: q.tz, from: q.from.toISOString(), to: q.to.toISOString(), measurements: q.measurements?.join(',') })}`),
  /** `GET /api/export/` as a file: fetched with the token (a plain link cannot carry it). */
  async exportFile(q: { meters: string[]; format: 'csv' | 'xlsx'; family: 'power' | 'energy'; from: Date; to: Date; measurements?: string[]; resolution: string; tz: string }): Promise<{ blob: Blob; filename: string }> {
    const res = await request('GET', `/api/export/?${qs({ meters: q.meters.join(','), format: q.format, family: q.family, from: q.from.toISOString(), to: q.to.toISOString(), measurements: q.measurements?.join(','), resolution: q.resolution, tz: q.tz })}`);
    const disposition = res.headers.get('content-disposition') ?? '';
    const filename = /filename="([^"]+)"/.exec(disposition)?.[1] ?? `meterhub.${q.format}`;
    return { blob: await res.blob(), filename };
  },
  health: async (): Promise<Health> => {
    // 503 still carries the body: show it rather than an error.
    const res = await fetch(hostUrl('/health/'), { headers: access ? { authorization: `Bearer ${access}` } : {} });
    return res.json();
  },
  status: () => json<HostStatus>('GET', '/api/status/'),
  buses: () => json<Bus[]>('GET', '/api/buses/'),
  startScan: (bus: string, q: { from: number; to: number }) => json<Scan>('POST', `/api/buses/${encodeURIComponent(bus)}/scan/`, q),
  scan: (bus: string, id: string) => json<Scan>('GET', `/api/buses/${encodeURIComponent(bus)}/scan/${encodeURIComponent(id)}/`),
  cancelScan: (bus: string, id: string) => json<void>('DELETE', `/api/buses/${encodeURIComponent(bus)}/scan/${encodeURIComponent(id)}/`),
  users: () => allPages<User>('/api/users/'),
  createUser: (u: { username: string; password: string; role: Role }) => json<User>('POST', '/api/users/', u),
  updateUser: (id: number, patch: { role?: Role; password?: string }) => json<User>('PATCH', `/api/users/${id}/`, patch),
  deleteUser: (id: number) => json<void>('DELETE', `/api/users/${id}/`),
  keys: () => allPages<ApiKey>('/api/keys/'),
  createKey: (k: { name: string; scopes: string[] }) => json<ApiKey & { key: string }>('POST', '/api/keys/', k),
  revokeKey: (id: number) => json<void>('DELETE', `/api/keys/${id}/`),
};

/**
 * The Socket.IO live stream (`/meters`). The token is read at every (re)connect,
 * and the subscription is sent again after each one: the server forgets it with
 * the old connection.
 */
export function connectLive(handlers: {
  reading(r: LiveReading): void; state(s: LiveState): void; snapshot(s: LiveSnapshot): void; connection(up: boolean): void;
}): { close(): void } {
  // The handshake may start while the session is still being restored: the token is handed over once known.
  const socket: Socket = io('/meters', { path: new URL(hostUrl('/socket.io')).pathname, auth: (cb) => void (refreshing ?? Promise.resolve()).then(() => cb({ token: access ?? '' })), transports: ['websocket'] });
  socket.on('connect', () => {
    handlers.connection(true);
    socket.emit('subscribe', { meters: '*' }, () => undefined);
  });
  socket.on('reading', handlers.reading);
  socket.on('meter-state', handlers.state);
  socket.on('snapshot', handlers.snapshot);
  socket.on('disconnect', (reason) => {
    handlers.connection(false);
    // The server ends the connection when the access token expires: refresh, then reconnect.
    if (reason === 'io server disconnect') void refreshAccess().then((ok) => ok && socket.connect());
  });
  socket.on('connect_error', (err: Error & { data?: { code?: string } }) => {
    handlers.connection(false);
    if (err.data?.code === 'METERHUB_ERR_UNAUTHORIZED') void refreshAccess().then((ok) => ok && socket.connect());
  });
  return { close: () => socket.close() };
}
