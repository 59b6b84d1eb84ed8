import { describeError, MeterhubError, type Reading } from '@meterhub/sdk';
import type { Logger } from '../logging/logger.js';
import type { BusLink } from './bus-link.js';
import type { MeterRuntime, PollGroup } from './meter-runtime.js';

export interface BusWorkerOptions {
  /** Consecutive failed cycles before a meter counts as offline. */
  offlineAfter: number;
  /** Longest pause between probes of an offline meter. */
  maxBackoffMs: number;
  publish(reading: Reading): void;
  onMeterState(meter: MeterRuntime): void;
  log: Logger;
}

const GROUPS: readonly PollGroup[] = ['instant', 'counter'];
const OVERRUN_WARNING_MS = 60_000;

/**
 * Polls the meters of one bus, strictly one request at a time. Each meter has a
 * due time per group on a fixed grid (start + k·interval), so the schedule does
 * not drift; a cycle that runs late skips the slots it missed instead of piling
 * them up, counts them as overruns, and a repeated overrun is logged once a
 * minute with the bus time needed and available.
 *
 * Offline meters never hold up the healthy ones: one is probed (one request,
 * the bus's short probe timeout) only in the bus's slack, when the time left
 * before the next due poll covers the probe, from half its back-off period on.
 * A bus that never has that much slack still gets each probe once per back-off
 * period, and the log says so.
 */
export class BusWorker {
  #meters = new Map<string, MeterRuntime>();
  #running = false;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #overruns = 0;
  #lastOverrunWarning = 0;
  /** Work that needs the bus between polls (a scan's unit ids), oldest first. */
  #between: Array<{ run: () => Promise<void>; fail: (err: unknown) => void }> = [];
  /** True after a poll cycle: the next turn goes to work waiting in `#between`. */
  #betweenTurn = false;

  constructor(readonly id: string, readonly link: BusLink, private readonly opts: BusWorkerOptions) {}

  meters(): MeterRuntime[] {
    return [...this.#meters.values()];
  }

  /** Replaces the set of meters; the loop picks the change up before its next request. */
  setMeters(meters: readonly MeterRuntime[]): void {
    this.#meters = new Map(meters.map((m) => [m.config.id, m]));
    this.#poke();
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run().catch((err: unknown) => this.opts.log.error({ bus: this.id, err: describeError(err) }, 'bus worker stopped on an error'));
  }

  /**
   * Runs `job` on this bus between two poll cycles, never inside one: when no
   * meter is due, or right after a cycle when meters are always due, so neither
   * the polls nor the job starve. The job's requests still go through the bus's
   * link (one at a time, with its pauses). Rejects if the bus stops first.
   */
  between<T>(job: () => Promise<T>): Promise<T> {
    if (!this.#running) return Promise.reject(new MeterhubError('METERHUB_ERR_MODBUS_CONNECTION', `bus ${this.id} is stopped`));
    return new Promise<T>((resolve, reject) => {
      this.#between.push({ run: () => job().then(resolve, reject), fail: reject });
      this.#poke();
    });
  }

  async stop(): Promise<void> {
    this.#running = false;
    for (const j of this.#between.splice(0)) j.fail(new MeterhubError('METERHUB_ERR_MODBUS_CONNECTION', `bus ${this.id} is stopped`));
    this.#poke();
    await this.#loop;
    await this.link.close();
  }

  #poke(): void {
    clearTimeout(this.#timer);
    this.#wake?.();
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = resolve;
      this.#timer = setTimeout(resolve, Math.max(0, ms));
    });
  }

  /** When a meter's next group is due. */
  #dueAt(m: MeterRuntime): number {
    return Math.min(...GROUPS.filter((g) => m.groups[g].length > 0).map((g) => m.due[g]));
  }

  /** Bus time a probe may take at most: the pause before it and its timeout. */
  #probeCostMs(): number {
    const t = this.link.timing;
    return t.interRequestDelayMs + t.unitSwitchDelayMs + t.probeTimeoutMs;
  }

  async #run(): Promise<void> {
    while (this.#running) {
      const meters = [...this.#meters.values()].filter((m) => m.config.enabled);
      const now = Date.now();
      const dueNow = meters.some((m) => (m.status.state !== 'offline' ? this.#dueAt(m) : m.retryAt) <= now);
      if (this.#between.length > 0 && (this.#betweenTurn || !dueNow)) {
        this.#betweenTurn = false;
        await this.#between.shift()!.run();
        continue;
      }
      if (meters.length === 0) {
        await this.#sleep(60_000);
        continue;
      }
      let healthy: MeterRuntime | undefined;
      let healthyAt = Number.POSITIVE_INFINITY;
      // Offline meters: the one whose deadline comes first among those that may be probed now, and when the next may.
      let probe: MeterRuntime | undefined;
      let nextProbeFrom = Number.POSITIVE_INFINITY;
      for (const m of meters) {
        if (m.status.state !== 'offline') {
          const t = this.#dueAt(m);
          if (t < healthyAt) [healthy, healthyAt] = [m, t];
        } else if (m.probeFrom > now) {
          nextProbeFrom = Math.min(nextProbeFrom, m.probeFrom);
        } else if (!probe || m.retryAt < probe.retryAt) {
          probe = m;
        }
      }
      const slack = healthyAt - now;
      const cost = this.#probeCostMs();
      // A probe whose deadline passed goes first: on a bus that is never idle, it would otherwise wait forever.
      if (probe && probe.retryAt <= now) {
        if (slack < cost) {
          this.opts.log.info(
            { bus: this.id, meter: probe.config.id, slackMs: Math.round(slack), probeMs: cost },
            `bus ${this.id}: probing offline meter ${probe.config.id} without slack (${Math.round(slack)} ms before the next poll is due, the probe may take ${cost} ms); the meters due may be late`,
          );
        }
        await this.#cycle(probe);
        continue;
      }
      if (healthy && healthyAt <= now) {
        await this.#cycle(healthy);
        continue;
      }
      if (probe && slack >= cost) {
        await this.#cycle(probe);
        continue;
      }
      // Until a healthy meter is due, an offline one may be probed, or a probe's deadline comes.
      const wakeAt = Math.min(healthyAt, nextProbeFrom, probe ? probe.retryAt : Number.POSITIVE_INFINITY);
      await this.#sleep(Number.isFinite(wakeAt) ? wakeAt - now : 60_000);
    }
  }

  async #cycle(m: MeterRuntime): Promise<void> {
    this.#betweenTurn = true;
    const startedAt = Date.now();
    const groups = GROUPS.filter((g) => m.groups[g].length > 0 && m.due[g] <= startedAt);
    // A probe reads the first block of whatever group is next, due or not.
    const polled = groups.length > 0 ? groups : GROUPS.filter((g) => m.groups[g].length > 0).slice(0, 1);
    const t0 = performance.now();
    const result = await m.poll(this.link, polled);
    // The meter may have been removed or replaced while its cycle ran.
    if (this.#meters.get(m.config.id) !== m) return;
    const wasOffline = m.status.state === 'offline';
    const changed = m.record(result, this.opts.offlineAfter);
    const now = Date.now();
    if (result.ok && !wasOffline) m.lastCycleMs = performance.now() - t0;
    let overran = 0;
    for (const g of groups) {
      const interval = m.intervalOf(g);
      const slots = Math.max(1, Math.floor((now - m.due[g]) / interval) + 1);
      overran += slots - 1;
      m.due[g] += slots * interval;
    }
    if (!wasOffline) {
      m.status.overruns += overran;
      if (overran > 0) this.#overran(now);
    }
    if (m.status.state === 'offline') {
      const backoff = Math.min(m.intervalOf('instant') * 2 ** Math.min(m.status.consecutiveFailures, 16), this.opts.maxBackoffMs);
      m.probeFrom = now + backoff / 2;
      m.retryAt = now + backoff;
      // An offline meter's grid restarts when it is back; probing never counts as an overrun.
      for (const g of GROUPS) m.due[g] = Math.max(m.due[g], now);
    } else if (changed && wasOffline) {
      // Back online: read everything at once rather than waiting for the counters' slot.
      m.due.counter = Math.min(m.due.counter, now);
    }
    if (changed) this.opts.onMeterState(m);
    if (result.ok && Object.keys(result.values).length > 0) {
      this.opts.publish({ meterId: m.config.id, ts: startedAt, values: result.values });
    }
  }

  /**
   * Counts an overrun; from the second within a minute, warns once a minute
   * with the bus time one round of the online meters needs against the
   * shortest interval it has.
   */
  #overran(now: number): void {
    this.#overruns++;
    if (this.#overruns < 2 || now - this.#lastOverrunWarning < OVERRUN_WARNING_MS) return;
    const online = [...this.#meters.values()].filter((m) => m.config.enabled && m.status.state !== 'offline' && m.lastCycleMs > 0);
    if (online.length === 0) return;
    const availableMs = Math.min(...online.map((m) => m.intervalOf('instant')));
    const neededMs = Math.round(online.reduce((sum, m) => sum + m.lastCycleMs * (availableMs / m.intervalOf('instant')), 0));
    this.opts.log.warn(
      { bus: this.id, neededMs, availableMs, overruns: this.#overruns, meters: online.map((m) => ({ id: m.config.id, cycleMs: Math.round(m.lastCycleMs), intervalMs: m.intervalOf('instant') })) },
      `bus ${this.id} cannot keep its poll intervals: a round of its meters needs ${neededMs} ms of bus time every ${availableMs} ms (${this.#overruns} overruns); lengthen the intervals, poll fewer measurements or split the bus`,
    );
    this.#lastOverrunWarning = now;
    this.#overruns = 0;
  }
}
