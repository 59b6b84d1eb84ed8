import { describeError, type Reading } from '@meterhub/sdk';
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

/**
 * Polls the meters of one bus, strictly one request at a time. Each meter has a
 * due time per group on a fixed grid (start + k·interval), so the schedule does
 * not drift; a cycle that runs late skips the slots it missed instead of piling
 * them up, and counts them as overruns. An offline meter is probed with
 * exponential back-off and never holds up the healthy ones.
 */
export class BusWorker {
  #meters = new Map<string, MeterRuntime>();
  #running = false;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;

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

  async stop(): Promise<void> {
    this.#running = false;
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

  /** When a meter next wants the bus, honouring offline back-off. */
  #nextTime(m: MeterRuntime): number {
    const due = Math.min(...GROUPS.filter((g) => m.groups[g].length > 0).map((g) => m.due[g]));
    return m.status.state === 'offline' ? Math.max(due, m.retryAt) : due;
  }

  async #run(): Promise<void> {
    while (this.#running) {
      const meters = [...this.#meters.values()].filter((m) => m.config.enabled);
      if (meters.length === 0) {
        await this.#sleep(60_000);
        continue;
      }
      let next = meters[0]!;
      let nextAt = this.#nextTime(next);
      for (const m of meters.slice(1)) {
        const t = this.#nextTime(m);
        if (t < nextAt) [next, nextAt] = [m, t];
      }
      const wait = nextAt - Date.now();
      if (wait > 0) {
        await this.#sleep(wait);
        continue; // the set of meters may have changed while sleeping
      }
      await this.#cycle(next);
    }
  }

  async #cycle(m: MeterRuntime): Promise<void> {
    const startedAt = Date.now();
    const groups = GROUPS.filter((g) => m.groups[g].length > 0 && m.due[g] <= startedAt);
    const result = await m.poll(this.link, groups);
    // The meter may have been removed or replaced while its cycle ran.
    if (this.#meters.get(m.config.id) !== m) return;
    const wasOffline = m.status.state === 'offline';
    const changed = m.record(result, this.opts.offlineAfter);
    const now = Date.now();
    for (const g of groups) {
      const interval = m.intervalOf(g);
      const slots = Math.max(1, Math.floor((now - m.due[g]) / interval) + 1);
      m.status.overruns += slots - 1;
      m.due[g] += slots * interval;
    }
    if (m.status.state === 'offline') {
      const backoff = Math.min(m.intervalOf('instant') * 2 ** Math.min(m.status.consecutiveFailures, 16), this.opts.maxBackoffMs);
      m.retryAt = now + backoff;
    } else if (changed && wasOffline) {
      // Back online: read everything at once rather than waiting for the counters' slot.
      m.due.counter = Math.min(m.due.counter, now);
    }
    if (changed) this.opts.onMeterState(m);
    if (result.ok && Object.keys(result.values).length > 0) {
      this.opts.publish({ meterId: m.config.id, ts: startedAt, values: result.values });
    }
  }
}
