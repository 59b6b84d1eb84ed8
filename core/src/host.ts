import { mkdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { HOST_API_VERSION, type ErrorDetail } from '@meterhub/sdk';
import { publishedSchema, validateConfig } from './config/config-validator.js';
import { readConfigFile, resolveDataDir, type ConfigSource } from './config/config-file.js';
import { applyEnvOverrides } from './config/env-overrides.js';
import type { HostConfig } from './config/host-config.js';
import { convertLegacySetting, type LegacySetting } from './config/legacy-setting.js';
import { DriverRegistry, type DriverProblem } from './drivers/driver-registry.js';
import { ControlSocket, controlSocketPath } from './http/control-socket.js';
import type { HttpServer } from './http/http-server.js';
import { createLogger, type Logger } from './logging/logger.js';
import type { LevelWithSilent } from 'pino';
import { discoverPackages, type DiscoveryProblem } from './plugins/discovery.js';
import { defaultBuiltins } from './plugins/builtin-packages.js';
import { PluginLifecycle } from './plugins/plugin-lifecycle.js';
import { ReadingPipeline } from './readings/reading-pipeline.js';
import { PushedMeterStates } from './readings/pushed-meter-states.js';
import { EventLoopWatch, type EventLoopDelay } from './diagnostics/event-loop-watch.js';
import { AcquisitionService, type AcquisitionStatus } from './acquisition/acquisition-service.js';
import { TransportRegistry } from './acquisition/transport-registry.js';
import type { MeterStatus } from './acquisition/meter-runtime.js';
import { MeterStateFeed } from './readings/meter-state-feed.js';
import { AuthBroker } from './plugins/auth-broker.js';
import { logFirstReadings, startDemo, type DemoSetup } from './demo/demo-simulator.js';
import type { StorageService } from './storage/storage-service.js';
import { MeterRegistry } from './meters/meter-registry.js';
import type { AccountsApi, CredentialsChange, HostSettings, MeterStateEvent } from '@meterhub/sdk';
import type { MeterConfig } from './config/host-config.js';
import { TariffRegistry } from './tariffs/tariff-registry.js';

export interface HostOptions {
  /** Path of the config file; undefined runs on defaults. */
  configPath?: string;
  /** A config object instead of a file (tests, embedders). */
  config?: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  logger?: Logger;
  /**
   * The distribution's packages (folders or names), loaded without a config
   * entry; defaults to those set by `setDefaultBuiltins` (none in core itself).
   */
  builtins?: readonly string[];
  /** Overrides `demo` from the config. */
  demo?: boolean;
  /** `check` loads and validates only (no demo simulator); `serve` (default) is for running. */
  mode?: 'serve' | 'check';
  /**
   * Describe plugins from their manifest's schema module where they have one,
   * without loading them: enough to validate a config (`meterhub validate`,
   * `meterhub config schema`), and much faster. Such a host cannot start and
   * has no HTTP server (a plugin loaded by it gets none either).
   */
  schemasOnly?: boolean;
  /**
   * Set the logger's level from `log.level` of the config. Defaults to true only
   * when the host creates its own logger: a caller that passes one keeps its level.
   */
  applyConfigLogLevel?: boolean;
}

export interface HostStatus {
  name: string;
  version: string;
  hostApi: string;
  uptimeSeconds: number;
  http: { port: number; mounts: Array<{ path: string; owner: string }> };
  drivers: Array<{ id: string; model: string; package: string; origin: string }>;
  driverProblems: DriverProblem[];
  discoveryProblems: DiscoveryProblem[];
  plugins: ReturnType<PluginLifecycle['reports']>;
  acquisition: AcquisitionStatus;
  storage: Record<string, unknown> | null;
  /** The reading pipeline: readings taken (every source) and how many were replays (older than their meter's newest). */
  readings: { taken: number; replays: number };
  /** Every meter's state, polled and pushed, with `lastSeen`. */
  meterStates: MeterStateEvent[];
  /** Event-loop delay (perf_hooks.monitorEventLoopDelay); null before start. */
  eventLoop: EventLoopDelay | null;
  /** Plugins marked `required` in the config: /health/ is unavailable when one of them failed. */
  requiredPlugins: string[];
}

const VERSION = '0.1.0';

/**
 * The meterhub host. `prepare()` discovers packages, loads drivers and plugins
 * and validates the whole configuration; `start()` opens the HTTP server and
 * starts the plugins; `stop()` undoes it in reverse. `meterhub validate` stops
 * after `prepare()`.
 */
export class Host {
  /** The one path of every reading; see core/src/readings/reading-pipeline.ts. */
  readonly readings: ReadingPipeline;
  readonly meterStates: MeterStateFeed;
  readonly auth = new AuthBroker();
  readonly drivers = new DriverRegistry();
  readonly transports = new TransportRegistry();
  acquisition: AcquisitionService | undefined;
  storage: StorageService | undefined;
  /** The tariffs of the config file and of the database; consumption answers price meters that have one. */
  tariffs: TariffRegistry | undefined;
  meters: MeterRegistry | undefined;
  accounts: AccountsApi | undefined;
  log: Logger;
  config!: Readonly<HostConfig>;
  source!: ConfigSource;
  dataDir!: string;
  http!: HttpServer;
  plugins!: PluginLifecycle;
  discoveryProblems: DiscoveryProblem[] = [];
  pluginConfigProblems: ReadonlyMap<string, ErrorDetail[]> = new Map();
  demo: DemoSetup | undefined;
  #control: ControlSocket | undefined;
  #pushed: PushedMeterStates | undefined;
  #loop: EventLoopWatch | undefined;
  #startedAt = 0;
  #stopping: Promise<void> | undefined;

  constructor(private readonly options: HostOptions = {}) {
    this.log = options.logger ?? createLogger({ level: 'info' });
    this.readings = new ReadingPipeline(this.log.child({ component: 'readings' }));
    this.meterStates = new MeterStateFeed((id) => this.readings.latest.newestTs(id));
  }

  /** The reading pipeline under its older name (tests and embedders publish and subscribe through it). */
  get bus(): ReadingPipeline {
    return this.readings;
  }

  /** Loads everything and validates the configuration; throws a coded error when it is invalid. */
  async prepare(): Promise<void> {
    const cwd = this.options.cwd ?? process.cwd();
    const env = this.options.env ?? process.env;
    this.source = this.options.config
      ? { baseDir: cwd, raw: structuredClone(this.options.config), legacy: false }
      : readConfigFile(this.options.configPath, cwd);
    this.dataDir = resolveDataDir(this.source.raw, this.source.baseDir);

    const raw = this.source.raw;
    const discovery = await discoverPackages({
      dataDir: this.dataDir,
      baseDir: this.source.baseDir,
      named: Array.isArray(raw['pluginPackages']) ? (raw['pluginPackages'] as string[]) : [],
      ...(raw['discovery'] && typeof raw['discovery'] === 'object' ? (raw['discovery'] as { allow?: string[]; deny?: string[] }) : {}),
      builtins: this.options.builtins ?? defaultBuiltins(),
    });
    this.discoveryProblems = discovery.problems;
    for (const p of discovery.problems) this.log.error(p, `package ${p.source} not loaded`);

    for (const entry of discovery.packages.filter((p) => p.kind === 'driver')) await this.drivers.loadPackage(entry);
    await this.drivers.loadFolder(join(this.dataDir, 'drivers'));
    for (const p of this.drivers.problems) this.log.error({ file: p.file, code: p.code, details: p.details }, `driver ${p.file} not loaded`);

    let effective = raw;
    if (this.source.legacy) {
      const file = basename(this.source.path ?? 'setting.json');
      this.log.warn({ file: this.source.path }, `${file} is the old logger's setting.json; running it as converted config. \`meterhub import-legacy\` writes the equivalent meterhub.json`);
      const converted = convertLegacySetting(raw as LegacySetting, this.drivers.list(), { file });
      for (const s of converted.skipped) this.log.warn({ path: s.path, hint: s.hint }, `${file}: ${s.message}`);
      effective = converted.config;
    }
    if (this.options.demo !== undefined) effective = { ...effective, demo: this.options.demo };
    const { config: withEnv, sources } = applyEnvOverrides(effective, env);
    const ownsLogger = this.options.applyConfigLogLevel ?? this.options.logger === undefined;
    const pretty = (withEnv['log'] as { pretty?: unknown } | undefined)?.pretty;
    // The logger exists before the config is read; `log.pretty` can only be honoured by a new one.
    if (ownsLogger && typeof pretty === 'boolean') this.log = createLogger({ level: this.log.level as LevelWithSilent, pretty });
    if (withEnv['demo'] === true && !this.demo) {
      this.demo = await startDemo(this.drivers, this.log, this.options.mode !== 'check');
      withEnv['buses'] = [...((withEnv['buses'] as unknown[] | undefined) ?? []), ...this.demo.buses];
      withEnv['meters'] = [...((withEnv['meters'] as unknown[] | undefined) ?? []), ...this.demo.meters];
    }

    // A host that only checks a config serves nothing: express is not even loaded.
    if (!this.options.schemasOnly) {
      const { HttpServer } = await import('./http/http-server.js');
      this.http = new HttpServer({ port: 0, host: '127.0.0.1', allowedHosts: [], debug: false, log: this.log });
    }
    this.plugins = new PluginLifecycle(
      {
        log: this.log, dataDir: this.dataDir, readings: this.readings, meterStates: this.meterStates, auth: this.auth, http: this.http, drivers: this.drivers, transports: this.transports,
        storage: () => this.storage, meters: () => this.meters, accounts: () => this.accounts, tariffs: () => this.tariffs,
        buses: () => this.acquisition && { list: () => this.acquisition!.buses(), scan: (id, o) => this.acquisition!.scan(id, o) },
        settings: () => this.settings(), status: () => this.status() as unknown as Record<string, unknown>,
      },
      lifecycleTimeouts(withEnv),
      this.log,
    );
    await this.plugins.load(discovery.packages.filter((p) => p.kind === 'plugin'), this.options.schemasOnly === true);

    const result = validateConfig({ raw: withEnv, drivers: this.drivers.list(), plugins: this.plugins.contributions(), envSources: sources });
    this.config = result.config;
    this.tariffs = new TariffRegistry(this.config.tariffs, this.source.path, this.log.child({ component: 'tariffs' }));
    this.pluginConfigProblems = result.pluginProblems;
    if (this.options.applyConfigLogLevel ?? this.options.logger === undefined) this.log.level = this.config.log.level;
    this.http?.configure({
      port: this.config.http.port, host: this.config.http.host, allowedHosts: this.config.http.allowedHosts,
      corsAllowedOrigins: this.config.http.corsAllowedOrigins, debug: this.config.debug,
      trustProxy: this.config.http.trustProxy, basePath: this.config.http.basePath,
    });
    const drivers = this.drivers.list().map((d) => d.id);
    this.log.info({ drivers, count: drivers.length }, `loaded ${drivers.length} driver(s): ${drivers.join(', ')}`);
  }

  /** Settings plugins may read (frozen). */
  settings(): HostSettings {
    return Object.freeze({
      name: this.config.name,
      version: VERSION,
      debug: this.config.debug,
      auth: this.config.auth,
      http: { corsAllowedOrigins: this.config.http.corsAllowedOrigins, allowedHosts: this.config.http.allowedHosts },
      ...(this.config.redis?.url ? { redis: { url: this.config.redis.url } } : {}),
    });
  }

  /** The composed JSON Schema of this host's configuration (host, drivers, plugins). */
  schema(): Record<string, unknown> {
    return publishedSchema(this.drivers.list(), this.plugins?.contributions() ?? []);
  }

  async start(): Promise<void> {
    this.#assertCanStart();
    if (!this.config) await this.prepare();
    this.#startedAt = Date.now();
    this.#loop = new EventLoopWatch(this.log.child({ component: 'event-loop' }));
    await mkdir(this.dataDir, { recursive: true });
    // Loaded here, not with the host: commands that only check or read (validate, status) never load knex and the database drivers.
    const [{ StorageService, storageSettings }, { ApiKeyRepository, UserRepository }] = await Promise.all([
      import('./storage/storage-service.js'), import('./accounts/account-repositories.js'),
    ]);
    this.storage = await StorageService.open(storageSettings({ storage: this.config.storage, dataDir: this.dataDir }), this.log.child({ component: 'storage' }), this.readings.latest);
    const disabled = await this.storage.syncConfigMeters(this.config.meters);
    await this.tariffs!.attach(this.storage);
    if (disabled.length) this.log.warn({ meters: disabled }, 'meters no longer in the config file are disabled; their history stays');
    this.storage.startJobs();
    const storage = this.storage;
    this.readings.attach(storage, this.config.storage.keepHistory);
    const pushed = new PushedMeterStates(this.meterStates, this.readings.latest, this.config.pushedMeters.staleAfterMs);
    this.#pushed = pushed;
    // Disabled meters with a bus that a collector forwards readings for: made by an older uplink, migrated on first sight.
    let placeholders = new Set<string>();
    this.readings.onArrival = (r) => {
      pushed.note(r);
      if (r.source === 'uplink' && placeholders.delete(r.meterId)) {
        void this.meters?.migrateToPushed(r.meterId).then((done) => {
          if (done) this.log.info({ meter: r.meterId }, `meter ${r.meterId} (made by an older uplink on a placeholder bus) is now a pushed meter`);
        }, (err: unknown) => this.log.warn({ meter: r.meterId, err: String(err) }, 'migrating a placeholder meter failed'));
      }
    };
    const changed = (change: CredentialsChange) => this.auth.credentialsChanged(change);
    this.accounts = { users: new UserRepository(storage.knex, changed), keys: new ApiKeyRepository(storage.knex, changed) };
    const acquisition = new AcquisitionService({
      drivers: this.drivers,
      transports: this.transports,
      publish: (r) => this.readings.publish(r, 'poll'),
      log: this.log.child({ component: 'acquisition' }),
    });
    this.acquisition = acquisition;
    acquisition.on('meter-state', (m: MeterStatus) => {
      this.meterStates.publish({ meterId: m.id, state: m.state, at: new Date().toISOString(), ...(m.state === 'offline' && m.lastError ? { error: m.lastError.message } : {}) });
    });
    const apply = (meters: MeterConfig[]) => {
      pushed.setMeters(meters);
      placeholders = new Set(meters.filter((m) => m.bus !== undefined && !m.enabled).map((m) => m.id));
      return acquisition.apply(this.config.buses, meters);
    };
    this.meters = new MeterRegistry(storage, this.config.buses, this.drivers, apply, (id) => this.tariffs!.meterRemoved(id), this.source.path);
    const migrated = await this.meters.migratePlaceholderBuses();
    if (migrated.length) this.log.info({ meters: migrated }, 'meters on a bus this host does not declare (made by an older uplink) are now pushed meters');
    await this.plugins.startAll(this.config, this.pluginConfigProblems);
    acquisition.start();
    if (this.demo) this.readings.subscribe(logFirstReadings(this.log));
    // The database is the source of truth for meters: config ones plus those created over the API.
    await apply((await storage.meters.list()).map((m) => m.config));
    if ((await this.accounts.users.count()) === 0) {
      this.log.warn('no users yet: create the first admin with `meterhub user add <name> --role admin` (there is no default password)');
    }
    const port = await this.http.listen();
    this.#control = new ControlSocket(controlSocketPath(this.dataDir), { '/status': () => this.status() });
    await this.#control.listen().catch((err: unknown) => {
      this.log.warn({ err: String(err) }, 'control socket not available; `meterhub status` will not reach this host');
      this.#control = undefined;
    });
    this.log.info({ port, host: this.config.http.host }, `HTTP server listening on http://${this.config.http.host}:${port}${this.http.basePath}/`);
  }

  /**
   * Starts only the plugins that provide `provides` (no HTTP server, storage or
   * polling): what CLI tools such as `meterhub read` need to borrow transports.
   */
  async startPluginsOnly(provides: string): Promise<void> {
    this.#assertCanStart();
    if (!this.config) await this.prepare();
    await this.plugins.startAll(this.config, this.pluginConfigProblems, (r) => (r.entry.manifest.provides ?? []).includes(provides));
  }

  #assertCanStart(): void {
    if (this.options.schemasOnly) throw new Error('a host made with schemasOnly only checks a configuration; it cannot start');
  }

  /** Stops plugins in reverse order, then the HTTP server. Safe to call twice. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      await this.#control?.close();
      // Buses first: their connections come from transport plugins.
      await this.acquisition?.stop();
      await this.plugins?.stopAll();
      // Last: every reading taken so far is written before the process ends.
      await this.storage?.close().catch((err: unknown) => this.log.error({ err: String(err) }, 'closing storage failed'));
      this.#pushed?.close();
      await this.demo?.close();
      await this.http?.close();
      this.#loop?.close();
      this.log.info('stopped');
    })();
    return this.#stopping;
  }

  status(): HostStatus {
    return {
      name: this.config?.name ?? 'meterhub',
      version: VERSION,
      hostApi: HOST_API_VERSION,
      uptimeSeconds: this.#startedAt ? Math.round((Date.now() - this.#startedAt) / 1000) : 0,
      http: { port: this.http?.port ?? 0, mounts: this.http?.mounts() ?? [] },
      drivers: this.drivers.entries().map((e) => ({ id: e.driver.id, model: `${e.driver.definition.vendor} ${e.driver.definition.model}`, package: e.packageName, origin: e.origin })),
      driverProblems: this.drivers.problems,
      discoveryProblems: this.discoveryProblems,
      plugins: this.plugins?.reports() ?? [],
      acquisition: this.acquisition?.status() ?? { buses: [], meters: [] },
      storage: this.storage?.status() ?? null,
      readings: { taken: this.readings.published, replays: this.readings.replays },
      meterStates: this.meterStates.current(),
      eventLoop: this.#loop?.current() ?? null,
      requiredPlugins: Object.entries(this.config?.plugins ?? {}).filter(([, p]) => p.required).map(([id]) => id),
    };
  }
}

function lifecycleTimeouts(raw: Record<string, unknown>): { loadTimeoutMs: number; startTimeoutMs: number; stopTimeoutMs: number } {
  // Read before validation: plugins load before the schema they contribute to exists.
  const l = (raw['lifecycle'] ?? {}) as Record<string, unknown>;
  const pick = (key: string, dflt: number): number => (Number.isInteger(l[key]) && (l[key] as number) > 0 ? (l[key] as number) : dflt);
  return { loadTimeoutMs: pick('loadTimeoutMs', 10000), startTimeoutMs: pick('startTimeoutMs', 15000), stopTimeoutMs: pick('stopTimeoutMs', 5000) };
}

