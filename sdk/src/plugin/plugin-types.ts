import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { CompiledDriver } from '../driver/compiled-driver.js';
import type { LatestValues, Reading } from '../readings/reading-types.js';
import type { MeasurementFamily } from '../vocabulary/measurements.js';
import type { TransportFactory } from '../transport/transport-types.js';
import type { PeriodCostView, TariffsApi } from './tariff-types.js';
import type { AccountsApi, Authenticator, BusesApi, Credentials, CredentialsChange, HostSettings, MeterRegistryApi, MeterStateEvent, Principal } from './host-services.js';

/**
 * The host API version this SDK describes. A plugin declares the range it
 * supports in its package.json (`"meterhub": {"hostApi": "^1.0.0"}`); the host
 * refuses to load a plugin whose range does not include its version.
 */
export const HOST_API_VERSION = '1.4.0';

/** Undoes one registration. The host runs a plugin's disposers in reverse order when it stops. */
export type Disposer = () => void | Promise<void>;

/** The logger handed to a plugin: a pino child logger bound to the plugin's id. */
export interface PluginLogger {
  trace(obj: unknown, msg?: string): void;
  debug(obj: unknown, msg?: string): void;
  info(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
  error(obj: unknown, msg?: string): void;
  child(bindings: Record<string, unknown>): PluginLogger;
}

/** A connect/express-style handler; an express `Router` is one. */
export type HttpHandler = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

/**
 * Takes over an HTTP upgrade request (WebSocket). It owns `socket` from then on:
 * it must complete the handshake or write an HTTP error and destroy it.
 */
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/**
 * Who sent a request and how it reached the host, resolved once by the host
 * for every request and upgrade (see `http.trustProxy`): behind a trusted
 * reverse proxy it comes from X-Forwarded-For, -Proto and -Host, otherwise from
 * the socket and the Host header.
 */
export interface RequestClient {
  /** The client's IP address (per-client limits key on it). */
  address: string;
  /** The scheme the client used. */
  protocol: 'http' | 'https';
  /** The host (and port) the client addressed. */
  host: string;
  /** `protocol://host` plus the base path, without a trailing slash: where this host's routes start for the client. */
  baseUrl: string;
}

export type PluginState = 'loaded' | 'starting' | 'running' | 'degraded' | 'stopping' | 'stopped' | 'disabled' | 'error';

/** What a plugin reports about itself; shown by `meterhub status` and `/health/`. */
export interface PluginStatusReport {
  state: PluginState;
  message?: string;
  error?: { code: string; message: string; at: string };
  details?: Record<string, unknown>;
}

/**
 * The API the host hands to each plugin. It is built per plugin: the logger, data
 * folder and status belong to that plugin, and every registration is recorded so
 * the host can undo it when the plugin stops or fails.
 */
export interface HostApi {
  /** The host API version (semver) the plugin runs against. */
  readonly apiVersion: string;
  /** The plugin's id, as given by its manifest. */
  readonly pluginId: string;
  readonly log: PluginLogger;
  /** A folder private to this plugin (created on first use), under the host's data dir. */
  dataDir(): Promise<string>;

  /** Marks the plugin running but impaired (e.g. a remote server is unreachable), with a reason. */
  setDegraded(message: string): void;
  /** Clears a degraded state. */
  setHealthy(message?: string): void;
  /** Attaches plugin-specific figures to its status (queue length, last success …). */
  setStatusDetails(details: Record<string, unknown>): void;

  /**
   * The one door for readings. Every reading the host takes, whatever its
   * source (the acquisition's polls, REST submissions, a collector's uplink, a
   * plugin), goes through it: the meter is resolved once, the values are split
   * into instantaneous values and counters once, the one latest-values store is
   * updated (never moved back by an older reading, which is marked `replay`
   * instead), every subscriber is called, and the reading is queued for storage.
   */
  readonly readings: {
    /**
     * Calls `listener` for every reading the host takes, from every source,
     * in arrival order, with `source` set and `replay: true` on readings older
     * than their meter's newest. Called synchronously on the path: a listener
     * with slow work queues it itself. A listener that throws or rejects marks
     * this plugin `error`; other listeners and the host carry on.
     */
    subscribe(listener: (reading: Reading) => void | Promise<void>): Disposer;
    /**
     * Takes readings (one or a batch) and resolves once they are committed to
     * storage (`stored`) or, while the database is unreachable, spooled on disk.
     * Subscribers see them before this resolves. `source` defaults to this
     * plugin's id. Rejects with METERHUB_ERR_HTTP_NOT_FOUND for an unknown
     * meter, before anything is taken. Idempotent on (meter, ts) in storage.
     * Since host API 1.2.
     */
    submit(readings: Reading | readonly Reading[]): Promise<{ stored: number; spooled: number }>;
    /** `submit` without waiting for storage (a failure is logged, not thrown): for transports and streams. */
    publish(reading: Reading): void;
    /**
     * The newest values of a meter's family from the host's one latest-values
     * store (what `storage.latest` answers too; usable before storage opens).
     * Since host API 1.2.
     */
    latest(meterId: string, family: MeasurementFamily): LatestValues | undefined;
  };
  readonly drivers: {
    get(id: string): CompiledDriver | undefined;
    list(): readonly CompiledDriver[];
  };

  /**
   * Stored readings, read-only. Available from `start()` on (the host opens
   * storage before it starts plugins); calling it earlier throws.
   */
  readonly storage: StorageReader;
  /** The tariffs of the config file (read-only) and of the database (changeable since host API 1.4). Since host API 1.3. */
  readonly tariffs: TariffsApi;

  /**
   * Meter states: polled meters as the acquisition sees them (online/offline),
   * pushed meters from the arrival of their readings (online/stale). Every
   * event carries `lastSeen`, the time of the meter's newest reading.
   */
  readonly meterStates: {
    /** Calls `listener` on every change of state; a throwing listener marks this plugin `error`. Since host API 1.1. */
    subscribe(listener: (event: MeterStateEvent) => void): Disposer;
    /** The current state of every meter that has one (polled or pushed), with an up-to-date `lastSeen`. Since host API 1.1. */
    current(): MeterStateEvent[];
  };

  /**
   * Authentication shared between plugins. Since host API 1.1.
   * `provide` is for the plugin that issues credentials (the REST API);
   * `authenticate` rejects with METERHUB_ERR_UNAUTHORIZED while none is provided.
   */
  readonly auth: {
    provide(authenticator: Authenticator): Disposer;
    authenticate(credentials: Credentials): Promise<Principal>;
    /**
     * Calls `listener` after credentials may have been revoked (key revoked,
     * logout, password or role change, user deleted), once the change is
     * committed. Plugins holding live connections re-check what they accepted
     * and close the connections that no longer pass. Since host API 1.2.
     */
    onCredentialsChanged(listener: (change: CredentialsChange) => void): Disposer;
  };

  /** The meter registry (the database is its source of truth). Available from start() on. */
  readonly meters: MeterRegistryApi;
  /** Users and API keys. Available from start() on. */
  readonly accounts: AccountsApi;
  /** The configured buses; `scan` finds unit ids through a bus's scheduler. Available from start() on. Since host API 1.3. */
  readonly buses: BusesApi;
  /** Host settings a plugin may need (auth lifetimes, CORS origins …). */
  settings(): HostSettings;
  /** The host's status: plugins, buses, meters, storage (what `meterhub status` shows). */
  status(): Record<string, unknown>;

  readonly transports: {
    /**
     * Offers a transport kind (`modbus-tcp`, `rtu` …) that buses in the config can
     * name. The host calls the factory once per bus, when the bus starts.
     */
    register(kind: string, factory: TransportFactory): Disposer;
  };

  readonly http: {
    /**
     * Mounts a handler under `path` on the host's HTTP server (port 8000 by
     * default). Plugins never start servers of their own.
     */
    mount(path: string, handler: HttpHandler): Disposer;
    /**
     * Takes HTTP upgrade requests (WebSocket) whose path is `path` or below it.
     * The host answers 404 to upgrades no plugin takes. Since host API 1.1.
     */
    upgrade(path: string, handler: UpgradeHandler): Disposer;
    /**
     * Documents endpoints a plugin mounted: OpenAPI 3.1 path items keyed by
     * path. They may refer to `#/components/schemas/Error` and
     * `#/components/responses/{BadRequest,Unauthorized,Forbidden,NotFound}`,
     * which the document's publisher (the REST API) defines. Since host API 1.2.
     */
    describe(paths: Record<string, Record<string, unknown>>): Disposer;
    /** Every path item plugins described, for the plugin that publishes the OpenAPI document. Since host API 1.2. */
    described(): Record<string, Record<string, unknown>>;
    /**
     * The path prefix the host serves under (`http.basePath`): '' at the
     * root, else e.g. '/meterhub', without a trailing slash. Mount and upgrade
     * paths are below it and handlers see URLs without it; a plugin needs it
     * only to write URLs for clients. Since host API 1.4.
     */
    basePath(): string;
    /**
     * The client of `req` (a request or an upgrade): its address, scheme and
     * host, the same value everywhere in the host. Read it instead of
     * `req.socket.remoteAddress` or the Host header, which name the proxy
     * when the host runs behind one. Since host API 1.4.
     */
    client(req: IncomingMessage): RequestClient;
  };

  /** Registers extra clean-up; it runs with the plugin's other disposers, in reverse order. */
  onStop(hook: Disposer): Disposer;
}

/** A point of a history query: raw values, or per bucket the mean (instant) or last value (counter). */
export interface HistoryPointView {
  ts: number;
  values: Record<string, number>;
  min?: Record<string, number>;
  max?: Record<string, number>;
  delta?: Record<string, number>;
}

/** A page of history as columns: `ts[i]` is row i's time; `values[id][i]` its value, NaN where the row has none. */
export interface HistoryPageView {
  length: number;
  ts: Float64Array;
  values: Record<string, Float64Array>;
}

/**
 * Read access to stored readings, handed to plugins. Writes go through
 * `readings.submit` (or its facades `ingest` and `ingestBatch` here), so every
 * reading takes the one path.
 */
export interface StorageReader {
  /**
   * The newest values of a meter's family (`power`: instant values, `energy`:
   * counters) from the host's one latest-values store in memory, the one the
   * live stream's snapshots and status read. Frozen; undefined before the
   * meter's first reading of that family. The same as `readings.latest`.
   */
  latest(meterId: string, family: MeasurementFamily): LatestValues | undefined;
  /**
   * History of one meter; `resolution: 'auto'` picks the coarsest rollup that
   * still gives `points` points. Day buckets are local days of `tz` (default
   * UTC; since host API 1.2). The answer says the width of its points:
   * `bucket` ('raw', '1m', '45m', '1d' …) and `bucketMs` (null for raw rows).
   */
  history(meterId: string, query: {
    family: MeasurementFamily; from: number; to: number;
    resolution: 'auto' | 'raw' | '1m' | '1h' | '1d'; points?: number; measurements?: readonly string[]; tz?: string;
  }): Promise<{ resolution: string; bucket: string; bucketMs: number | null; points: HistoryPointView[]; truncated: boolean }>;
  /**
   * History in pages of at most `pageSize` rows (default 5000), oldest first,
   * one query per page, as columns: raw rows, or rollup buckets (mean of
   * instant values, last counter value). For exports of any length: memory
   * stays one page, and breaking out of the loop stops the queries. A page's
   * arrays are reused for the next page: copy what must outlive it. Since host API 1.1.
   */
  pages(meterId: string, query: {
    family: MeasurementFamily; from: number; to: number;
    resolution: 'raw' | '1m' | '1h' | '1d'; measurements?: readonly string[]; pageSize?: number;
  }): AsyncIterable<HistoryPageView>;
  /**
   * Consumption (counter increase) per local day, week or month in an IANA
   * time zone, rounded to the counters' resolution. `partial` (since host API
   * 1.2) flags a period the range or the stored data cover only in part.
   * `cost` (since host API 1.3) is there when the meter has a tariff: each
   * minute's energy priced at the window in force, rounded per period.
   */
  consumption(meterId: string, query: {
    period: 'day' | 'week' | 'month'; tz: string; from: number; to: number; measurements?: readonly string[];
  }): Promise<Array<{ start: string; end: string; values: Record<string, number>; partial: boolean; cost?: PeriodCostView }>>;
  /**
   * `readings.submit` for one reading (it is published like any other):
   * resolves once it is committed (`stored`) or spooled. Kept for plugins
   * written against host API 1.0.
   */
  ingest(reading: Reading): Promise<'stored' | 'spooled'>;
  /**
   * `readings.submit` for a batch (kept for plugins written against host API
   * 1.1): the readings are published, written at once rather than after the
   * ingest batch delay, and this resolves when all are committed or spooled.
   */
  ingestBatch(readings: readonly Reading[]): Promise<{ stored: number; spooled: number }>;
  /** True when the database answers a trivial query. */
  ping(): Promise<boolean>;
}

/** The object a plugin factory returns. */
export interface PluginInstance<Config = Record<string, unknown>> {
  /** Human-readable name for status output. */
  name?: string;
  /**
   * JSON Schema of this plugin's `config`. The host composes it into the one
   * schema of the whole configuration; defaults in it are filled in.
   */
  configSchema?: Record<string, unknown>;
  /**
   * The transport kinds this plugin registers (with `host.transports.register`
   * in `start`), each with the JSON Schema of its connection properties. The
   * host reads them at load, before validating the config: the allowed values
   * of `buses[].transport` are the kinds of the loaded plugins, and a bus of a
   * kind is validated against that kind's `properties` and `required` (errors
   * name the JSON path, e.g. `/buses/0/port`). The bus's timing settings
   * (`responseTimeoutMs`, `retries` …) are the host's and need no declaring.
   * Since host API 1.3.
   */
  transports?: Record<string, TransportKindSchema>;
  /** Called once the whole configuration is valid, with this plugin's frozen config. */
  start(config: Readonly<Config>): void | Promise<void>;
  /** Called on shutdown, before the plugin's disposers run. */
  stop?(): void | Promise<void>;
}

/** A transport kind's part of a bus's schema (see `PluginInstance.transports`). */
export interface TransportKindSchema {
  /** One line for `meterhub config schema` and editors. */
  description: string;
  /** JSON Schemas of the connection properties of a bus of this kind; defaults are filled in. */
  properties: Record<string, Record<string, unknown>>;
  /** Properties a bus of this kind must have. */
  required?: string[];
}

/**
 * A plugin package's default export. The host calls it once at load, before
 * validating the configuration (so it can read `configSchema`), with the
 * plugin's own host API.
 */
export type PluginFactory<Config = Record<string, unknown>> =
  (host: HostApi) => PluginInstance<Config> | Promise<PluginInstance<Config>>;

/**
 * Identity helper that gives a plugin factory its types.
 *
 * @example
 * export default definePlugin<{ limitW: number }>((host) => ({
 *   configSchema: { type: 'object', properties: { limitW: { type: 'number', default: 5000 } } },
 *   start(config) {
 *     host.readings.subscribe((r) => { if ((r.values.power ?? 0) > config.limitW) host.log.warn(r, 'over limit'); });
 *   },
 * }));
 */
export function definePlugin<Config = Record<string, unknown>>(factory: PluginFactory<Config>): PluginFactory<Config> {
  return factory;
}

/** The `meterhub` section of a plugin's or driver's package.json. */
export interface PackageManifest {
  kind: 'plugin' | 'driver';
  /** Semver range of host API versions the package supports. */
  hostApi: string;
  /** Plugin id; defaults to the package name without its `meterhub-plugin-` / `@meterhub/plugin-` prefix. */
  id?: string;
  /** For drivers: JSON definition files, relative to the package root. */
  definitions?: string[];
  /** Ids of plugins that must start before this one. */
  dependencies?: string[];
  /**
   * What the plugin offers the host (`transports`). CLI tools such as
   * `meterhub read` start only the plugins that provide what they need.
   */
  provides?: string[];
  /**
   * CLI commands the plugin adds to `meterhub`: `module` is a file relative to
   * the package root whose `registerCli` export (see `RegisterCli`) adds them;
   * `commands` lists their names, so the host loads the module only when one
   * of them is run. A name the host already has is refused (reported, not loaded).
   */
  cli?: { module: string; commands: string[] };
  /**
   * A module, relative to the package root, whose `configSchema` and
   * `transports` exports are those the plugin's factory returns (the factory
   * imports them from it: one source). Commands that only check a config
   * (`meterhub validate`, `meterhub config schema`) read them from this module
   * instead of loading the plugin with its libraries.
   */
  schema?: string;
}
