import { EventEmitter } from 'node:events';
import { describeError, MeterhubError, type CompiledDriver, type Reading, type UnitScanHit, type UnitScanProgress } from '@meterhub/sdk';
import { isPolled, type BusConfig, type MeterConfig, type PolledMeterConfig } from '../config/host-config.js';
import { BUS_SCHEMA } from '../config/host-schema.js';
import type { Logger } from '../logging/logger.js';
import { BusLink, type BusLinkStatus, type BusTiming } from './bus-link.js';
import { BusWorker } from './bus-worker.js';
import { MeterRuntime, type MeterStatus } from './meter-runtime.js';
import type { TransportRegistry } from './transport-registry.js';
import { scanUnits } from './unit-scan.js';
import { WireTrace } from './wire-trace.js';

export interface BusStatus extends Partial<BusLinkStatus> {
  id: string;
  transport: string;
  state: 'running' | 'waiting-for-transport' | 'error';
  message?: string;
}

export interface AcquisitionStatus {
  buses: BusStatus[];
  meters: MeterStatus[];
}

export interface AcquisitionOptions {
  drivers: { get(id: string): CompiledDriver | undefined; list(): readonly CompiledDriver[] };
  transports: TransportRegistry;
  publish(reading: Reading): void;
  log: Logger;
  offlineAfter?: number;
  maxBackoffMs?: number;
}

/** Bus timing: explicit bus settings win, otherwise the most cautious hint of the drivers on the bus. */
export function resolveTiming(bus: BusConfig, drivers: readonly CompiledDriver[]): BusTiming {
  const hint = (key: 'responseTimeoutMs' | 'interRequestDelayMs' | 'unitSwitchDelayMs', fallback: number) =>
    bus[key] ?? (drivers.length ? Math.max(...drivers.map((d) => d.definition.timing[key])) : fallback);
  const responseTimeoutMs = hint('responseTimeoutMs', 1000);
  return {
    responseTimeoutMs,
    probeTimeoutMs: Math.min(bus.probeTimeoutMs ?? BUS_SCHEMA.properties.probeTimeoutMs.default, responseTimeoutMs),
    interRequestDelayMs: hint('interRequestDelayMs', 50),
    unitSwitchDelayMs: hint('unitSwitchDelayMs', 0),
    afterConnectDelayMs: bus.afterConnectDelayMs ?? 0,
    retries: bus.retries ?? 1,
  };
}

const sameBus = (a: BusConfig, b: BusConfig) => JSON.stringify(a) === JSON.stringify(b);
const sameMeter = (a: PolledMeterConfig, b: PolledMeterConfig) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Runs one worker per bus (buses poll in parallel) and keeps them in step with
 * the meter registry: `apply()` with a new set of buses and meters changes what
 * is polled before the next request, without a restart. Emits `meter-state`
 * when a meter goes online or offline.
 */
export class AcquisitionService extends EventEmitter {
  #workers = new Map<string, { worker: BusWorker; config: BusConfig }>();
  #waiting = new Map<string, { config: BusConfig; message: string }>();
  #buses: BusConfig[] = [];
  #meters: PolledMeterConfig[] = [];
  #offTransports: (() => void) | undefined;
  #running = false;
  #chain: Promise<void> = Promise.resolve();
  /** Buses being scanned: one scan per bus at a time. */
  #scanning = new Set<string>();

  constructor(private readonly opts: AcquisitionOptions) {
    super();
  }

  start(): void {
    this.#running = true;
    // A bus whose transport plugin starts later (or restarts) is picked up then.
    this.#offTransports = this.opts.transports.onChange(() => void this.#reconcileSoon());
    void this.#reconcileSoon();
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#offTransports?.();
    await this.#chain;
    await Promise.all([...this.#workers.values()].map((w) => w.worker.stop()));
    this.#workers.clear();
  }

  /** Sets the buses and meters to poll (meters without a bus are pushed, not polled); takes effect within one cycle. */
  async apply(buses: readonly BusConfig[], meters: readonly MeterConfig[]): Promise<void> {
    this.#buses = [...buses];
    this.#meters = meters.filter(isPolled);
    if (this.#running) await this.#reconcileSoon();
  }

  /** Reconciliations run one after another: config and transport changes can arrive together. */
  #reconcileSoon(): Promise<void> {
    this.#chain = this.#chain.then(() => this.#reconcile()).catch((err: unknown) => {
      this.opts.log.error({ err: describeError(err) }, 'applying the bus configuration failed');
    });
    return this.#chain;
  }

  async #reconcile(): Promise<void> {
    if (!this.#running) return;
    const wanted = new Map(this.#buses.map((b) => [b.id, b]));
    for (const [id, w] of this.#workers) {
      const config = wanted.get(id);
      if (!config || !sameBus(config, w.config) || !this.opts.transports.get(config.transport)) {
        this.#workers.delete(id);
        await w.worker.stop();
      }
    }
    this.#waiting.clear();
    for (const bus of wanted.values()) {
      const meters = this.#meters.filter((m) => m.bus === bus.id);
      let entry = this.#workers.get(bus.id);
      if (!entry) {
        const factory = this.opts.transports.get(bus.transport);
        if (!factory) {
          this.#waiting.set(bus.id, { config: bus, message: `no transport "${bus.transport}" is loaded; available: ${this.opts.transports.kinds().join(', ') || 'none'}` });
          continue;
        }
        const drivers = meters.map((m) => this.opts.drivers.get(m.driver)).filter((d): d is CompiledDriver => d !== undefined);
        try {
          const link = new BusLink(factory(bus), resolveTiming(bus, drivers), new WireTrace(this.opts.log, bus.id));
          entry = { worker: this.#makeWorker(bus.id, link), config: bus };
        } catch (err) {
          this.#waiting.set(bus.id, { config: bus, message: describeError(err) });
          continue;
        }
        this.#workers.set(bus.id, entry);
        entry.worker.start();
      }
      this.#syncMeters(entry.worker, meters);
    }
  }

  #makeWorker(id: string, link: BusLink): BusWorker {
    return new BusWorker(id, link, {
      offlineAfter: this.opts.offlineAfter ?? 2,
      maxBackoffMs: this.opts.maxBackoffMs ?? 60_000,
      publish: this.opts.publish,
      log: this.opts.log,
      onMeterState: (m) => {
        this.opts.log.info({ meter: m.config.id, state: m.status.state, error: m.status.lastError?.message }, `meter ${m.config.id} is ${m.status.state}`);
        this.emit('meter-state', { ...m.status });
      },
    });
  }

  /** Keeps runtimes of unchanged meters (their schedule and what was learned), replaces the rest. */
  #syncMeters(worker: BusWorker, meters: readonly PolledMeterConfig[]): void {
    const existing = new Map(worker.meters().map((m) => [m.config.id, m]));
    const now = Date.now();
    const runtimes: MeterRuntime[] = [];
    for (const config of meters) {
      const old = existing.get(config.id);
      if (old && sameMeter(old.config, config)) {
        runtimes.push(old);
        continue;
      }
      const driver = this.opts.drivers.get(config.driver);
      if (!driver) {
        this.opts.log.error({ meter: config.id, driver: config.driver }, `meter ${config.id}: driver ${config.driver} is not loaded`);
        continue;
      }
      runtimes.push(new MeterRuntime(config, driver, now, config.requestMode === 'per-register'));
    }
    worker.setMeters(runtimes);
  }

  /** The configured buses and whether each has a running worker. */
  buses(): Array<{ id: string; transport: string; running: boolean }> {
    return this.#buses.map((b) => ({ id: b.id, transport: b.transport, running: this.#workers.has(b.id) }));
  }

  /**
   * Scans unit ids on a running bus through its worker: each unit id's probes
   * run between two poll cycles (`BusWorker.between`) over the bus's one link,
   * so the bus keeps one master, its pacing, and its meters' cycles whole.
   */
  async scan(busId: string, options: { units: readonly number[]; timeoutMs?: number; signal?: AbortSignal; onProgress?(p: UnitScanProgress): void; onHit?(hit: UnitScanHit): void }): Promise<UnitScanHit[]> {
    const bad = (path: string, message: string) => new MeterhubError('METERHUB_ERR_VALIDATION', message, { details: [{ path, message }] });
    if (options.units.length === 0) throw bad('units', 'no unit ids to scan');
    const wrong = options.units.find((u) => !Number.isInteger(u) || u < 1 || u > 247);
    if (wrong !== undefined) throw bad('units', `unit id ${wrong} is outside 1…247`);
    if (options.timeoutMs !== undefined && !(Number.isInteger(options.timeoutMs) && options.timeoutMs >= 10 && options.timeoutMs <= 10_000)) {
      throw bad('timeoutMs', 'timeoutMs must be an integer from 10 to 10000');
    }
    if (!this.#buses.some((b) => b.id === busId)) throw new MeterhubError('METERHUB_ERR_HTTP_NOT_FOUND', `no bus "${busId}" is configured`);
    const entry = this.#workers.get(busId);
    if (!entry) throw new MeterhubError('METERHUB_ERR_CONFLICT', `bus ${busId} is not running: ${this.#waiting.get(busId)?.message ?? 'not started yet'}`);
    if (this.#scanning.has(busId)) throw new MeterhubError('METERHUB_ERR_CONFLICT', `bus ${busId} is already being scanned`);
    const drivers = this.opts.drivers.list();
    if (drivers.length === 0) throw new MeterhubError('METERHUB_ERR_DRIVER_UNKNOWN', 'no drivers loaded');
    this.#scanning.add(busId);
    const timeoutMs = options.timeoutMs ?? entry.worker.link.timing.probeTimeoutMs;
    this.opts.log.info({ bus: busId, units: options.units.length, timeoutMs }, `scanning ${options.units.length} unit id(s) on bus ${busId}`);
    try {
      const worker = entry.worker;
      return await scanUnits(worker.link, drivers, { ...options, timeoutMs, turn: (probeUnit) => worker.between(probeUnit) });
    } finally {
      this.#scanning.delete(busId);
    }
  }

  status(): AcquisitionStatus {
    const buses: BusStatus[] = [];
    const meters: MeterStatus[] = [];
    for (const [id, { worker, config }] of this.#workers) {
      buses.push({ id, transport: config.transport, state: 'running', ...worker.link.status() });
      for (const m of worker.meters()) meters.push({ ...m.status, state: m.config.enabled ? m.status.state : 'unknown' });
    }
    for (const [id, w] of this.#waiting) buses.push({ id, transport: w.config.transport, state: 'waiting-for-transport', message: w.message });
    return { buses, meters };
  }
}
