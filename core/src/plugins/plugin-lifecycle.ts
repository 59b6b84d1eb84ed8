import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  describeError, MeterhubError,
  type ErrorCode, type ErrorDetail, type PluginFactory, type PluginInstance,
} from '@meterhub/sdk';
import type { HostConfig } from '../config/host-config.js';
import type { SchemaContribution } from '../config/compose-schema.js';
import type { Logger } from '../logging/logger.js';
import { createHostApi, type HostServices } from './host-api.js';
import { entryFile, type PackageEntry } from './manifest.js';
import { PluginRecord } from './plugin-record.js';
import { withTimeout } from './with-timeout.js';

export interface LifecycleTimeouts {
  loadTimeoutMs: number;
  startTimeoutMs: number;
  stopTimeoutMs: number;
}

async function importFactory(entry: PackageEntry): Promise<PluginFactory> {
  const mod = (await import(pathToFileURL(join(entry.dir, entryFile(entry.pkg))).href)) as Record<string, unknown>;
  // A CommonJS plugin arrives as { default: module.exports }, possibly with its own default.
  const candidate = mod['default'] as unknown;
  const factory = typeof candidate === 'function' ? candidate : (candidate as Record<string, unknown> | undefined)?.['default'];
  if (typeof factory !== 'function') {
    throw new MeterhubError('METERHUB_ERR_PLUGIN_MANIFEST', `${entry.name}: the default export must be a plugin factory (definePlugin(...))`);
  }
  return factory as PluginFactory;
}

/** The `configSchema` and `transports` exports of a plugin's manifest `schema` module. */
async function importSchemas(entry: PackageEntry, file: string): Promise<Pick<PluginInstance, 'configSchema' | 'transports'>> {
  const mod = (await import(pathToFileURL(join(entry.dir, file)).href)) as Pick<PluginInstance, 'configSchema' | 'transports'>;
  if (mod.configSchema === undefined && mod.transports === undefined) {
    throw new MeterhubError('METERHUB_ERR_PLUGIN_MANIFEST', `${entry.name}: ${file} (meterhub.schema) exports neither configSchema nor transports`);
  }
  return { ...(mod.configSchema ? { configSchema: mod.configSchema } : {}), ...(mod.transports ? { transports: mod.transports } : {}) };
}

/** Orders records so that each starts after the plugins it depends on. */
function dependencyOrder(records: PluginRecord[]): PluginRecord[] {
  const byId = new Map(records.map((r) => [r.id, r]));
  const ordered: PluginRecord[] = [];
  const visiting = new Set<string>();
  const visit = (r: PluginRecord): void => {
    if (ordered.includes(r) || visiting.has(r.id)) return;
    visiting.add(r.id);
    for (const dep of r.dependencies) {
      const d = byId.get(dep);
      if (d) visit(d);
    }
    visiting.delete(r.id);
    ordered.push(r);
  };
  records.forEach(visit);
  return ordered;
}

/**
 * Loads, starts and stops plugins. Every step is isolated: a plugin that throws
 * at load, at start, in a callback or at stop is marked `error` with the reason
 * and the host carries on. Stop runs in reverse start order, each plugin's
 * disposers newest first, every step under a timeout.
 */
export class PluginLifecycle {
  readonly records: PluginRecord[] = [];
  #started: PluginRecord[] = [];
  readonly #services: HostServices;

  constructor(
    services: Omit<HostServices, 'onCallbackError'>,
    private readonly timeouts: LifecycleTimeouts,
    private readonly log: Logger,
  ) {
    this.#services = { ...services, onCallbackError: (record, err) => void this.#failAtRuntime(record, err) };
  }

  get(id: string): PluginRecord | undefined {
    return this.records.find((r) => r.id === id);
  }

  #fail(record: PluginRecord, code: ErrorCode, err: unknown): void {
    record.fail(code, err);
    this.log.error({ plugin: record.id, code, err: describeError(err) }, `plugin ${record.id} failed`);
  }

  /**
   * Imports each plugin package and calls its factory with its own host API.
   * With `schemasOnly` (a host that only checks a config), a plugin whose
   * manifest names a schema module is described from that module and not loaded.
   */
  async load(entries: readonly PackageEntry[], schemasOnly = false): Promise<void> {
    for (const entry of entries) {
      const record = new PluginRecord(entry);
      for (const w of entry.warnings) this.log.warn({ plugin: record.id }, w);
      if (this.records.some((r) => r.id === record.id)) {
        this.#fail(record, 'METERHUB_ERR_PLUGIN_DUPLICATE', new Error(`plugin id "${record.id}" is already taken by ${this.get(record.id)!.entry.name}`));
        this.records.push(record);
        continue;
      }
      this.records.push(record);
      try {
        const schemaModule = entry.manifest.schema;
        if (schemasOnly && schemaModule) {
          record.schemas = await withTimeout(() => importSchemas(entry, schemaModule), this.timeouts.loadTimeoutMs, `loading ${entry.name}'s schemas`);
          continue;
        }
        const factory = await withTimeout(() => importFactory(entry), this.timeouts.loadTimeoutMs, `loading ${entry.name}`);
        const api = createHostApi(record, this.#services);
        const instance = await withTimeout(() => factory(api), this.timeouts.loadTimeoutMs, `${entry.name} factory`);
        if (!instance || typeof (instance as PluginInstance).start !== 'function') {
          throw new MeterhubError('METERHUB_ERR_PLUGIN_MANIFEST', `${entry.name}: the factory must return an object with start(config)`);
        }
        record.instance = instance;
        record.schemas = instance;
      } catch (err) {
        this.#fail(record, 'METERHUB_ERR_PLUGIN_LOAD', err);
        await record.disposers.disposeAll(this.timeouts.stopTimeoutMs);
      }
    }
  }

  /** Schemas of the plugins that loaded, for config composition. */
  contributions(): SchemaContribution[] {
    return this.records
      .filter((r) => r.schemas && r.state !== 'error')
      .map((r) => ({
        id: r.id,
        ...(r.schemas!.configSchema ? { schema: r.schemas!.configSchema } : {}),
        ...(r.schemas!.transports ? { transports: r.schemas!.transports } : {}),
      }));
  }

  /**
   * Starts every enabled plugin in dependency order. Throws only when a plugin
   * marked `required` in the config cannot start.
   */
  async startAll(config: Readonly<HostConfig>, configProblems: ReadonlyMap<string, ErrorDetail[]>, only: (r: PluginRecord) => boolean = () => true): Promise<void> {
    for (const record of dependencyOrder(this.records.filter((r) => r.state === 'loaded' && r.instance && only(r)))) {
      const entry = config.plugins[record.id];
      if (entry && !entry.enabled) {
        record.state = 'disabled';
        continue;
      }
      await this.#start(record, entry?.config ?? {}, configProblems.get(record.id));
      if (record.state === 'error' && entry?.required) {
        throw new MeterhubError('METERHUB_ERR_PLUGIN_START', `required plugin ${record.id} could not start: ${record.error?.message}`, {
          details: [...(record.error?.details ?? [])],
        });
      }
    }
  }

  async #start(record: PluginRecord, config: Readonly<Record<string, unknown>>, problems: ErrorDetail[] | undefined): Promise<void> {
    if (problems?.length) {
      this.#fail(record, 'METERHUB_ERR_CONFIG_INVALID', new MeterhubError('METERHUB_ERR_CONFIG_INVALID', `invalid config for plugin ${record.id}`, { details: problems }));
      return;
    }
    const missing = record.dependencies.filter((d) => !this.get(d)?.active);
    if (missing.length > 0) {
      this.#fail(record, 'METERHUB_ERR_PLUGIN_DEPENDENCY', new Error(`needs plugin(s) ${missing.join(', ')}, which are not running`));
      return;
    }
    record.state = 'starting';
    try {
      await withTimeout(() => record.instance!.start(config), this.timeouts.startTimeoutMs, `starting ${record.id}`);
      // A callback may already have failed the plugin while it was starting.
      if (record.state === 'starting') record.state = 'running';
      this.#started.push(record);
      this.log.info({ plugin: record.id, version: record.entry.version }, `plugin ${record.id} started`);
    } catch (err) {
      this.#fail(record, 'METERHUB_ERR_PLUGIN_START', err);
      // Roll back whatever the failed start registered.
      await this.#disposeAll(record);
    }
  }

  async #disposeAll(record: PluginRecord): Promise<void> {
    for (const f of await record.disposers.disposeAll(this.timeouts.stopTimeoutMs)) {
      this.log.warn({ plugin: record.id, disposer: f.label, err: describeError(f.error) }, 'disposer failed');
    }
  }

  async #failAtRuntime(record: PluginRecord, err: unknown): Promise<void> {
    if (!record.active) return;
    this.#fail(record, 'METERHUB_ERR_PLUGIN_CALLBACK', err);
    await this.#teardown(record);
  }

  /** Calls the plugin's stop and runs its disposers; never throws. */
  async #teardown(record: PluginRecord): Promise<void> {
    this.#started = this.#started.filter((r) => r !== record);
    try {
      if (record.instance?.stop) await withTimeout(() => record.instance!.stop!(), this.timeouts.stopTimeoutMs, `stopping ${record.id}`);
    } catch (err) {
      record.error ??= { code: 'METERHUB_ERR_PLUGIN_STOP', message: describeError(err), at: new Date().toISOString() };
      this.log.warn({ plugin: record.id, err: describeError(err) }, `plugin ${record.id} failed to stop cleanly`);
    }
    await this.#disposeAll(record);
  }

  /** Stops running plugins in reverse start order. Always ends with every plugin stopped. */
  async stopAll(): Promise<void> {
    for (const record of [...this.#started].reverse()) {
      record.state = 'stopping';
      const hadError = record.error !== undefined;
      await this.#teardown(record);
      // Torn down either way; a plugin whose stop threw stays visible as `error`.
      record.state = record.error && !hadError ? 'error' : 'stopped';
    }
    this.#started = [];
  }

  reports(): Array<ReturnType<PluginRecord['report']>> {
    return this.records.map((r) => r.report());
  }
}
