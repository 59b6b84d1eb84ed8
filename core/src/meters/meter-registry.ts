import { ajvErrorsToDetails, compileSchema, deepFreeze, MeterhubError, type CompiledDriver, type ErrorDetail } from '@meterhub/sdk';
import type { ValidateFunction } from 'ajv';
import type { BusConfig, MeterConfig } from '../config/host-config.js';
import { METER_SCHEMA, NEW_METER_SCHEMA } from '../config/host-schema.js';
import type { StoredMeter } from '../storage/meter-repository.js';
import type { StorageService } from '../storage/storage-service.js';

export interface MeterView extends MeterConfig {
  source: 'config' | 'api';
}

let validateMeter: ValidateFunction | undefined;

/**
 * The meters the host polls. The database is the source of truth: meters of
 * the config file are upserted at start and stay managed by the file (read-only
 * here); meters created over the API live only in the database. Every change
 * is handed to the scheduler at once, so it takes effect within a cycle.
 */
export class MeterRegistry {
  /** Every change goes through this registry, so a cache invalidated here stays exact. */
  #cache: Promise<ReadonlyMap<string, MeterView>> | undefined;

  constructor(
    private readonly storage: StorageService,
    private readonly buses: readonly BusConfig[],
    private readonly drivers: { get(id: string): CompiledDriver | undefined },
    private readonly apply: (meters: MeterConfig[]) => Promise<void>,
    /** Called after a meter is deleted (its tariff assignment goes with it). */
    private readonly removed: (id: string) => Promise<void> = async () => undefined,
    /** The config file, named in the 409 a change of one of its meters answers (none when the config came as an object). */
    private readonly configFile?: string,
  ) {}

  /**
   * The shape of a meter as the API accepts it (the id may be left out). The
   * rules across fields (a bus needs a driver and a unit id) are checked by
   * `create` and `update` on the merged meter, so a PATCH can send one field.
   */
  schema(): Record<string, unknown> {
    const { allOf: _rules, ...shape } = structuredClone(NEW_METER_SCHEMA);
    return shape as unknown as Record<string, unknown>;
  }

  #withConnection(view: MeterView): MeterView {
    const bus = this.buses.find((b) => b.id === view.bus);
    if (!bus) return view;
    const connection = bus.transport === 'rtu'
      ? { transport: bus.transport, ...(bus.path ? { path: bus.path } : {}), baud: bus.baud }
      : { transport: bus.transport, ...(bus.host ? { host: bus.host } : {}), ...(bus.port ? { port: bus.port } : {}) };
    return { ...view, connection };
  }

  /** A free id made from the name (`Garage` → `garage`, then `garage-2` …), for meters created without one. */
  async #newId(name: string | undefined): Promise<string> {
    const base = (name ?? '').normalize('NFKD').replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^[^A-Za-z0-9]+|-+$/g, '').toLowerCase().slice(0, 56) || 'meter';
    const taken = new Set((await this.storage.meters.list()).map((m) => m.key));
    for (let n = 1; ; n++) {
      const id = n === 1 ? base : `${base}-${n}`;
      if (!taken.has(id)) return id;
    }
  }

  /**
   * Meters created by older collectors' uplinks sit on a placeholder bus that
   * this host's config does not declare (they could never be polled): they
   * become pushed meters. Returns the ids changed.
   */
  async migratePlaceholderBuses(): Promise<string[]> {
    const changed: string[] = [];
    for (const m of await this.storage.meters.list()) {
      if (m.source !== 'api' || m.config.bus === undefined || this.buses.some((b) => b.id === m.config.bus)) continue;
      const { bus: _b, unitId: _u, ...pushed } = m.config;
      await this.storage.meters.replace(m.ref, { ...pushed, enabled: true });
      changed.push(m.key);
    }
    if (changed.length) this.#cache = undefined;
    return changed;
  }

  /**
   * Makes a disabled API meter with a bus a pushed meter, when readings for it
   * arrive from a collector: older uplinks created their meters that way, on a
   * placeholder bus of this host. Returns true when it changed the meter.
   */
  async migrateToPushed(id: string): Promise<boolean> {
    const m = await this.storage.meters.byKey(id);
    if (!m || m.source !== 'api' || m.config.enabled || m.config.bus === undefined) return false;
    const { bus: _b, unitId: _u, ...pushed } = m.config;
    await this.storage.meters.replace(m.ref, { ...pushed, enabled: true });
    await this.#applyAll();
    return true;
  }

  static view(m: StoredMeter): MeterView {
    return { ...m.config, source: m.source };
  }

  /** Frozen views, shared by every caller until the next change. */
  #views(): Promise<ReadonlyMap<string, MeterView>> {
    this.#cache ??= this.storage.meters.list().then((all) => new Map(all.map((m) => [m.key, deepFreeze(this.#withConnection(MeterRegistry.view(m)))])));
    return this.#cache;
  }

  async list(): Promise<MeterView[]> {
    return [...(await this.#views()).values()];
  }

  /**
   * One meter. A miss is checked in the database: another host sharing it
   * (several central hosts on one PostgreSQL) may have created the meter since
   * this one read the list, and a collector's readings for it may come here.
   */
  async get(id: string): Promise<MeterView | undefined> {
    const hit = (await this.#views()).get(id);
    if (hit || !(await this.storage.meters.byKey(id))) return hit;
    this.#cache = undefined;
    return (await this.#views()).get(id);
  }

  /** Validates a meter like the config file does: schema, bus, driver, measurements, unit id. */
  async #check(input: unknown, ignoreKey?: string): Promise<MeterConfig> {
    validateMeter ??= compileSchema(METER_SCHEMA);
    const config = structuredClone(input) as MeterConfig & { source?: string };
    if (config && typeof config === 'object' && config.id === undefined && ignoreKey === undefined) config.id = await this.#newId(config.name);
    if (!validateMeter(config)) throw new MeterhubError('METERHUB_ERR_VALIDATION', 'the meter is not valid', { details: ajvErrorsToDetails(validateMeter.errors) });
    // `source` only says how the meter is made: from here on a meter is pushed exactly when it has no bus.
    delete config.source;
    const problems: ErrorDetail[] = [];
    if (config.bus !== undefined && !this.buses.some((b) => b.id === config.bus)) {
      problems.push({ path: '/bus', message: `no bus "${config.bus}"`, hint: this.buses.length ? `buses: ${this.buses.map((b) => b.id).join(', ')}; or leave "bus" out for a pushed meter` : 'this host has no buses: leave "bus" out for a pushed meter' });
    }
    const driver = config.driver === undefined ? undefined : this.drivers.get(config.driver);
    if (config.driver !== undefined && !driver) problems.push({ path: '/driver', message: `no driver "${config.driver}"` });
    (config.measurements ?? []).forEach((m, i) => {
      if (driver && !driver.resolve(m)) problems.push({ path: `/measurements/${i}`, message: `"${m}" is not a measurement of ${driver.id}` });
    });
    const clash = config.bus === undefined ? undefined : (await this.storage.meters.list()).find((m) => m.key !== ignoreKey && m.config.bus === config.bus && m.config.unitId === config.unitId);
    if (clash) problems.push({ path: '/unitId', message: `unit id ${config.unitId} on bus "${config.bus}" is used by meter "${clash.key}"` });
    if (problems.length) throw new MeterhubError('METERHUB_ERR_VALIDATION', 'the meter is not valid', { details: problems });
    if (driver && config.measurements) config.measurements = [...new Set(config.measurements.map((m) => driver.resolve(m)!.measurement.id))];
    return config;
  }

  async #applyAll(): Promise<void> {
    this.#cache = undefined;
    await this.apply((await this.storage.meters.list()).map((m) => m.config));
  }

  async create(input: unknown): Promise<MeterView> {
    const config = await this.#check(input);
    if (await this.storage.meters.byKey(config.id)) throw new MeterhubError('METERHUB_ERR_CONFLICT', `meter "${config.id}" exists`);
    const stored = await this.storage.meters.insert(config, 'api');
    // The ingest path maps keys to refs from a cache; teach it the new meter before it is polled.
    await this.storage.refOf(config.id);
    await this.#applyAll();
    return this.#withConnection(MeterRegistry.view(stored));
  }

  async #editable(id: string): Promise<StoredMeter> {
    const m = await this.storage.meters.byKey(id);
    if (!m) throw new MeterhubError('METERHUB_ERR_HTTP_NOT_FOUND', `no meter "${id}"`);
    if (m.source === 'config') throw new MeterhubError('METERHUB_ERR_CONFLICT', `meter "${id}" is declared in the config file${this.configFile ? ` ${this.configFile}` : ''}; edit the file and restart to change it`);
    return m;
  }

  /** Replaces (`merge: false`, PUT) or patches (`merge: true`, PATCH) an API meter. */
  async update(id: string, input: Record<string, unknown>, merge: boolean): Promise<MeterView> {
    const existing = await this.#editable(id);
    if (input['id'] !== undefined && input['id'] !== id) throw new MeterhubError('METERHUB_ERR_VALIDATION', 'the id of a meter cannot change', { details: [{ path: '/id', message: 'cannot change' }] });
    const { source: _s, connection: _c, ...base } = MeterRegistry.view(existing);
    // `"source": "push"` turns a polled meter into a pushed one: its bus goes.
    const kept = merge && input['source'] === 'push' ? (({ bus: _b, unitId: _u, ...rest }) => rest)(base) : base;
    const config = await this.#check({ ...(merge ? kept : {}), ...input, id }, id);
    const stored = await this.storage.meters.replace(existing.ref, config);
    await this.#applyAll();
    return this.#withConnection(MeterRegistry.view(stored));
  }

  /** Deletes an API meter and its history. */
  async remove(id: string): Promise<void> {
    const existing = await this.#editable(id);
    await this.storage.deleteMeter(existing.ref);
    await this.removed(id);
    await this.#applyAll();
  }
}
