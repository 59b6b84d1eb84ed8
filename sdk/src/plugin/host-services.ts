/**
 * Host services beyond the basics, for plugins that manage the installation
 * (the REST API is one; a third-party admin UI would be another). All calls
 * validate their input and throw coded MeterhubErrors with the field at fault.
 */

export type Role = 'admin' | 'viewer';
export type Scope = 'read' | 'ingest' | 'meters:write';

export interface UserView {
  id: number;
  username: string;
  role: Role;
  /** Raised when the password changes or the user logs out everywhere: older tokens stop working. */
  tokenVersion: number;
  createdAt: string;
}

export interface ApiKeyView {
  id: number;
  name: string;
  /** The first characters of the key, to recognise it in lists. */
  prefix: string;
  scopes: Scope[];
  createdBy: number | null;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export interface AccountsApi {
  users: {
    count(): Promise<number>;
    list(offset?: number, limit?: number): Promise<UserView[]>;
    byId(id: number): Promise<UserView | undefined>;
    byUsername(username: string): Promise<UserView | undefined>;
    create(username: string, password: string, role: Role): Promise<UserView>;
    setPassword(id: number, password: string): Promise<void>;
    update(id: number, patch: { role?: Role }): Promise<UserView>;
    revokeTokens(id: number): Promise<void>;
    delete(id: number): Promise<boolean>;
    /** The user when the password matches (constant work for unknown names). */
    verify(username: string, password: string): Promise<UserView | undefined>;
  };
  keys: {
    /** Returns the key itself once; only its digest is stored. */
    create(name: string, scopes: readonly Scope[], createdBy: number | null): Promise<{ key: string; apiKey: ApiKeyView }>;
    list(offset?: number, limit?: number): Promise<ApiKeyView[]>;
    revoke(id: number): Promise<boolean>;
    verify(key: string): Promise<ApiKeyView | undefined>;
  };
}

/**
 * A meter as the registry holds it. `source: 'config'` meters are managed by
 * the config file. A meter with a `bus` is polled (and has a `driver` and a
 * `unitId`); a meter without one is pushed: its readings are submitted (REST,
 * uplink, a plugin) and its state follows their arrivals.
 */
export interface MeterRecord {
  id: string;
  name?: string;
  /** Required for polled meters; optional for pushed ones (without it any vocabulary measurement is accepted). */
  driver?: string;
  /** Absent for pushed meters. */
  bus?: string;
  /** Absent for pushed meters. */
  unitId?: number;
  enabled: boolean;
  measurements?: string[];
  intervals: { instantMs: number; counterMs: number };
  requestMode: 'coalesce' | 'per-register';
  metadata?: Record<string, unknown>;
  source: 'config' | 'api';
  /** Pushed meters: expected time between readings; `stale` comes after 3× it when `staleAfterMs` is not set. */
  expectedIntervalMs?: number;
  /** Pushed meters: silence after which the meter is `stale` (default 3× `expectedIntervalMs`, or 5 min). */
  staleAfterMs?: number;
  /** How the meter is reached: its bus's transport and address (read-only, from the config's buses). */
  connection?: { transport: string; host?: string; port?: number; path?: string; baud?: number };
}

export interface MeterRegistryApi {
  /** JSON Schema of a meter, the one the config file's `meters[]` is validated with. */
  schema(): Record<string, unknown>;
  list(): Promise<MeterRecord[]>;
  get(id: string): Promise<MeterRecord | undefined>;
  /** Validates like the config file and starts polling it within a cycle. */
  create(input: unknown): Promise<MeterRecord>;
  /** PUT (`merge: false`) or PATCH (`merge: true`); config meters answer METERHUB_ERR_CONFLICT. */
  update(id: string, input: Record<string, unknown>, merge: boolean): Promise<MeterRecord>;
  /** Deletes an API meter and its history. */
  remove(id: string): Promise<void>;
}

/** Settings a plugin may need from the host's config (frozen). */
export interface HostSettings {
  name: string;
  version: string;
  debug: boolean;
  auth: { secretKey?: string; accessTokenLifetimeMinutes: number; refreshTokenLifetimeMinutes: number };
  http: { corsAllowedOrigins: readonly string[]; allowedHosts: readonly string[] };
  /** Shared Redis for plugins that fan out across host instances (REDIS_URL); absent when not configured. Secret: never logged. */
  redis?: { url: string };
}

/** Who is calling: a user with an access token, or an API key. */
export type Principal =
  | { kind: 'user'; user: UserView; /** Epoch ms when the access token expires. */ expiresAt: number }
  | { kind: 'key'; key: ApiKeyView };

/** Credentials as a client presented them; at most one is used (the API key first). */
export interface Credentials {
  /** An access JWT (from `Authorization: Bearer …`, a handshake field or a query parameter). */
  bearer?: string;
  apiKey?: string;
}

/**
 * Checks credentials. The plugin that issues tokens (the REST API) provides
 * one; others (live streams, exports) authenticate through the host with it.
 */
export interface Authenticator {
  /** Resolves the principal, or rejects with METERHUB_ERR_UNAUTHORIZED and a reason a client can show. */
  authenticate(credentials: Credentials): Promise<Principal>;
}

/**
 * Credentials changed in a way that may revoke them: an API key revoked, a
 * user logged out everywhere, changed password or role, or was deleted.
 * Holders of long-lived connections re-check the credentials they accepted.
 */
export type CredentialsChange =
  | { kind: 'key-revoked'; keyId: number }
  | { kind: 'user-changed'; userId: number; reason: 'logout' | 'password' | 'role' | 'deleted' };

/**
 * Where a meter stands. Polled meters: `online` after a good cycle, `offline`
 * after consecutive failures. Pushed meters (no bus): `online` while readings
 * keep arriving, `stale` once none came for the meter's `staleAfterMs`.
 * `unknown` until the first reading or poll.
 */
export type MeterState = 'unknown' | 'online' | 'offline' | 'stale';

/** A meter's state changed; also the entries of `meterStates.current()`. */
export interface MeterStateEvent {
  meterId: string;
  state: MeterState;
  /** ISO time of the change. */
  at: string;
  /** The last error when offline. */
  error?: string;
  /**
   * ISO time the host last received a reading of this meter (polled or
   * pushed); null when it never did since start. Since host API 1.2.
   */
  lastSeen?: string | null;
}

/** A unit id that answered a bus scan, and the meter model its probe registers point to. Since host API 1.3. */
export interface UnitScanHit {
  unitId: number;
  /** The driver whose probes all hold; null when the unit answers but no driver recognises it. */
  driver: string | null;
  /** `vendor model` of that driver. */
  model: string | null;
  /** The probe values the unit gave for that driver. */
  probes: Record<string, number>;
  /**
   * True when the answer does not settle the model: other drivers' probes hold
   * just as well (`alternatives`), or the driver names models that answer the
   * same way (`lookalikes`).
   */
  ambiguous: boolean;
  alternatives: Array<{ driver: string; model: string }>;
  lookalikes: Array<{ model: string; note?: string }>;
}

/** How far a scan got: `done` of `total` unit ids tried, `unitId` the one being tried, `found` hits so far. Since host API 1.3. */
export interface UnitScanProgress {
  done: number;
  total: number;
  unitId: number;
  found: number;
}

/** The buses of the configuration, as their schedulers run them. Since host API 1.3. */
export interface BusesApi {
  /** Ids of the configured buses and whether each is running (its transport is loaded). */
  list(): Array<{ id: string; transport: string; running: boolean }>;
  /**
   * Tries `units` (1…247) on a running bus with every loaded driver's probe
   * registers, through the bus's own scheduler: each unit id's probes run
   * between two poll cycles over the bus's one connection, never inside a
   * cycle, and a due poll waits at most one unit id's probes (a silent unit id
   * costs `timeoutMs`). Resolves with the units that answered.
   * Rejects with METERHUB_ERR_HTTP_NOT_FOUND for an unknown bus,
   * METERHUB_ERR_CONFLICT when the bus is not running or is already being
   * scanned, METERHUB_ERR_VALIDATION for bad unit ids or timeout.
   * `timeoutMs` defaults to the bus's probe timeout. `onProgress` is called
   * before each unit id and after the last, `onHit` for each unit as it is found.
   */
  scan(busId: string, options: { units: readonly number[]; timeoutMs?: number; signal?: AbortSignal; onProgress?(progress: UnitScanProgress): void; onHit?(hit: UnitScanHit): void }): Promise<UnitScanHit[]>;
}
