import { credentialsFromRequest, MeterhubError, requireReadAccess, type HostApi, type MeterStateEvent, type Role, type Scope } from '@meterhub/sdk';
import { notFound } from '../http-errors.js';
import type { RouteSpec } from '../route-table.js';
import { apiKeySchema, healthSchema, newApiKeySchema, pageSchema, userSchema } from '../response-schemas.js';
import { page, pageQuery } from './meter-routes.js';

const idParam = (s: string | undefined) => {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1) throw notFound('such id');
  return n;
};

const userBody = {
  type: 'object', additionalProperties: false, required: ['username', 'password', 'role'],
  properties: { username: { type: 'string', minLength: 1, maxLength: 150 }, password: { type: 'string', minLength: 1, maxLength: 1024 }, role: { enum: ['admin', 'viewer'] } },
};
const userPatch = {
  type: 'object', additionalProperties: false, minProperties: 1,
  properties: { password: { type: 'string', minLength: 1, maxLength: 1024 }, role: { enum: ['admin', 'viewer'] } },
};
const keyBody = {
  type: 'object', additionalProperties: false, required: ['name', 'scopes'],
  properties: { name: { type: 'string', minLength: 1, maxLength: 200 }, scopes: { type: 'array', minItems: 1, uniqueItems: true, items: { enum: ['read', 'ingest', 'meters:write'] } } },
};

/** Users and API keys (admins only). */
export function accountRoutes(host: HostApi): RouteSpec[] {
  const users = () => host.accounts.users;
  const user = async (id: string | undefined) => (await users().byId(idParam(id))) ?? Promise.reject(notFound('such user'));
  return [
    {
      method: 'get', path: '/api/users/', tag: 'users', access: 'admin', query: pageQuery, response: pageSchema(userSchema), summary: 'List users',
      async handler({ query, req }) {
        const q = query as { limit: number; offset: number };
        const all = await users().list(0, 1_000_000);
        return page(all, q, { req, client: host.http.client(req) });
      },
    },
    {
      method: 'post', path: '/api/users/', tag: 'users', access: 'admin', body: userBody, status: 201, response: userSchema, errors: [409], summary: 'Create a user',
      async handler({ body }) {
        const b = body as { username: string; password: string; role: Role };
        return users().create(b.username, b.password, b.role);
      },
    },
    { method: 'get', path: '/api/users/:id/', tag: 'users', access: 'admin', response: userSchema, summary: 'One user', handler: ({ params }) => user(params['id']) },
    {
      method: 'patch', path: '/api/users/:id/', tag: 'users', access: 'admin', body: userPatch, response: userSchema, errors: [409], summary: 'Change role or password (a new password revokes the user\'s tokens)',
      async handler({ params, body }) {
        const u = await user(params['id']);
        const b = body as { password?: string; role?: Role };
        if (b.password !== undefined) await users().setPassword(u.id, b.password);
        return b.role ? users().update(u.id, { role: b.role }) : users().byId(u.id);
      },
    },
    {
      method: 'delete', path: '/api/users/:id/', tag: 'users', access: 'admin', status: 204, errors: [409], summary: 'Delete a user (never the last admin, never oneself: 409)',
      async handler({ params, principal }) {
        const u = await user(params['id']);
        if (principal?.kind === 'user' && principal.user.id === u.id) throw new MeterhubError('METERHUB_ERR_CONFLICT', 'you cannot delete your own account');
        await users().delete(u.id);
        return undefined;
      },
    },
    {
      method: 'get', path: '/api/keys/', tag: 'keys', access: 'admin', query: pageQuery, response: pageSchema(apiKeySchema), summary: 'List API keys (never the keys themselves)',
      async handler({ query, req }) {
        return page(await host.accounts.keys.list(0, 1_000_000), query as { limit: number; offset: number }, { req, client: host.http.client(req) });
      },
    },
    {
      method: 'post', path: '/api/keys/', tag: 'keys', access: 'admin', body: keyBody, status: 201, response: newApiKeySchema, summary: 'Create an API key; the key is in this answer only',
      async handler({ body, principal }) {
        const b = body as { name: string; scopes: Scope[] };
        const { key, apiKey } = await host.accounts.keys.create(b.name, b.scopes, principal?.kind === 'user' ? principal.user.id : null);
        return { ...apiKey, key };
      },
    },
    {
      method: 'delete', path: '/api/keys/:id/', tag: 'keys', access: 'admin', status: 204, summary: 'Revoke an API key; its live connections close',
      async handler({ params }) {
        if (!(await host.accounts.keys.revoke(idParam(params['id'])))) throw notFound('active key with that id');
        return undefined;
      },
    },
  ];
}

/**
 * The uplink's queue for monitoring (how far behind the central host is), without
 * the server's address or error texts: /health/ answers without authentication.
 */
function uplinkHealth(details: Record<string, unknown> | undefined): Record<string, unknown> {
  if (!details || details['enabled'] !== true) return {};
  const lastError = details['lastError'] as { at?: string } | null | undefined;
  return {
    uplink: {
      queued: details['queued'], oldestAgeSeconds: details['oldestAgeSeconds'], lastSuccess: details['lastSuccess'],
      lastErrorAt: lastError?.at ?? null, backingOff: details['backingOff'], rejected: details['rejected'],
    },
  };
}

/** Every meter, polled (as the scheduler has it) or pushed, with `lastSeen` from its newest reading. */
function meterHealth(polled: ReadonlyArray<{ id: string; state: string; lastSuccess: string | null }>, states: readonly MeterStateEvent[]) {
  const byId = new Map(states.map((e) => [e.meterId, e]));
  const out = polled.map((m) => ({ id: m.id, state: m.state, lastSeen: byId.get(m.id)?.lastSeen ?? m.lastSuccess }));
  const listed = new Set(out.map((m) => m.id));
  for (const e of states) if (!listed.has(e.meterId)) out.push({ id: e.meterId, state: e.state, lastSeen: e.lastSeen ?? null });
  return out;
}


/** True when the request carries a token or key with read access (bad credentials just get the public answer). */
async function mayReadDetails(host: HostApi, req: Parameters<typeof credentialsFromRequest>[0]): Promise<boolean> {
  const credentials = credentialsFromRequest(req);
  if (credentials.apiKey === undefined && credentials.bearer === undefined) return false;
  try {
    requireReadAccess(await host.auth.authenticate(credentials));
    return true;
  } catch {
    return false;
  }
}

/**
 * `/health/`: liveness and readiness. Anyone gets the status and the
 * database's reachability; the details (version, plugins, buses, meters,
 * uplink) need a token or key with `read`, unless `publicDetails` is set for
 * a trusted LAN.
 */
export function healthRoute(host: HostApi, publicDetails: boolean): RouteSpec {
  return {
    method: 'get', path: '/health/', tag: 'health', access: 'public', response: healthSchema, alsoAnswers: { 503: healthSchema },
    summary: 'Liveness and readiness: 200 when the database and required plugins are up, 503 otherwise; offline meters never cause a 503. Details need read access.',
    async handler({ setStatus, req }) {
      const s = host.status() as {
        version: string; uptimeSeconds: number;
        plugins: Array<{ id: string; state: string; details?: Record<string, unknown> }>;
        acquisition: { buses: Array<{ id: string; state: string; connected?: boolean }>; meters: Array<{ id: string; state: string; lastSuccess: string | null }> };
        storage: { engine?: string; spooled?: number } | null;
        requiredPlugins?: string[];
        eventLoop?: { p50Ms: number; p99Ms: number; maxMs: number; windowSeconds: number; worstMs: number } | null;
      };
      const database = await host.storage.ping();
      const failed = s.plugins.filter((p) => p.state === 'error' && (s.requiredPlugins ?? []).includes(p.id));
      const ok = database && failed.length === 0;
      setStatus(ok ? 200 : 503);
      if (!publicDetails && !(await mayReadDetails(host, req))) return { status: ok ? 'ok' : 'unavailable', database: { reachable: database } };
      return {
        status: ok ? 'ok' : 'unavailable',
        version: s.version,
        uptimeSeconds: s.uptimeSeconds,
        database: { engine: s.storage?.engine ?? null, reachable: database, spooled: s.storage?.spooled ?? 0 },
        // States only: a plugin's message can name internal addresses, and this answers anyone.
        plugins: s.plugins.map((p) => ({ id: p.id, state: p.state })),
        ...uplinkHealth(s.plugins.find((p) => p.id === 'uplink')?.details),
        buses: s.acquisition.buses.map((b) => ({ id: b.id, state: b.state, connected: b.connected ?? false })),
        meters: meterHealth(s.acquisition.meters, host.meterStates.current()),
        ...(s.eventLoop ? { eventLoop: { p50Ms: s.eventLoop.p50Ms, p99Ms: s.eventLoop.p99Ms, maxMs: s.eventLoop.maxMs, windowSeconds: s.eventLoop.windowSeconds, worstMs: s.eventLoop.worstMs } } : {}),
      };
    },
  };
}
