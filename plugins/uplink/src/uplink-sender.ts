import type { HostApi } from '@meterhub/sdk';
import type { CentralClient } from './central-client.js';
import type { Outbox, OutboxRow } from './outbox.js';
import type { Target, TargetPool } from './target-pool.js';

export interface SenderOptions {
  batchReadings: number;
  batchDelayMs: number;
  maxQueued: number;
  warnAt: number;
  backoff: { initialMs: number; maxMs: number };
  /** Creates a meter the central host behind `client` does not know; resolves with why not when it cannot. */
  createMeter?: (remoteId: string, client: CentralClient) => Promise<string | undefined>;
}

export interface SenderStatus {
  queued: number;
  oldestAgeSeconds: number | null;
  sent: number;
  rejected: number;
  dropped: number;
  lastSuccess: string | null;
  lastError: { message: string; at: string } | null;
  backingOff: boolean;
}

/** Sleeps `ms`, or less when `signal.wake()` is called (a full batch, or stop). */
const sleep = (ms: number, signal: { wake?: () => void }) => new Promise<void>((resolve) => {
  const t = setTimeout(resolve, ms);
  signal.wake = () => {
    clearTimeout(t);
    resolve();
  };
});

/**
 * Drains the outbox to the central hosts: batches by size and time, one POST
 * per meter and family, rows removed only once confirmed. A transient failure
 * (no answer, 5xx, 429) marks that host down and sends the rest of the batch
 * to the next one that is up at once; with none up it waits for a probe to
 * find one back (see TargetPool) and retries the same rows. A backlog is replayed at full speed, alternating its oldest and
 * its newest rows so live values are not stuck behind hours of history (the
 * central host's ingest is idempotent on meter and time, so order does not matter).
 */
export class UplinkSender {
  readonly #status: SenderStatus = { queued: 0, oldestAgeSeconds: null, sent: 0, rejected: 0, dropped: 0, lastSuccess: null, lastError: null, backingOff: false };
  readonly #wait: { wake?: () => void } = {};
  #running = false;
  #loop: Promise<void> | undefined;
  /** True after a round that found no central host up: send again as soon as one is, batch full or not. */
  #failing = false;
  #newestTurn = false;
  #warned = false;

  constructor(private readonly outbox: Outbox, private readonly pool: TargetPool, private readonly host: HostApi, private readonly opts: SenderOptions) {
    this.#status.rejected = outbox.rejectedCount();
  }

  start(): void {
    this.#running = true;
    this.#loop = this.#run();
  }

  /** A reading was queued: a full batch goes at once. */
  queued(): void {
    const dropped = this.outbox.enforceCap(this.opts.maxQueued);
    if (dropped) {
      this.#status.dropped += dropped;
      this.host.log.warn({ dropped, cap: this.opts.maxQueued }, 'outbox full: dropped the oldest instantaneous values (counters are kept)');
    }
    if (!this.#warned && this.outbox.size >= this.opts.warnAt * this.opts.maxQueued) {
      this.#warned = true;
      this.host.log.warn({ queued: this.outbox.size, cap: this.opts.maxQueued }, `outbox ${Math.round((this.outbox.size / this.opts.maxQueued) * 100)}% full: the central host has not confirmed readings for a while`);
      this.host.setDegraded(`outbox ${this.outbox.size} of ${this.opts.maxQueued} readings`);
    }
    if (!this.#status.backingOff && this.outbox.size >= this.opts.batchReadings) this.#wait.wake?.();
  }

  status(): SenderStatus {
    const oldest = this.outbox.oldestTs();
    return { ...this.#status, queued: this.outbox.size, oldestAgeSeconds: oldest === undefined ? null : Math.max(0, Math.round((Date.now() - oldest) / 1000)) };
  }

  /** A central host answers again: a sender waiting for one goes on. */
  wake(): void {
    this.#wait.wake?.();
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#wait.wake?.();
    await this.#loop;
  }

  async #run(): Promise<void> {
    while (this.#running) {
      if (this.outbox.size === 0 || (this.outbox.size < this.opts.batchReadings && !this.#failing)) {
        // Wait for a batch to fill, or for the batch delay to pass.
        await sleep(this.opts.batchDelayMs, this.#wait);
        if (!this.#running) break;
        if (this.outbox.size === 0) continue;
      }
      const backlog = this.outbox.size > 2 * this.opts.batchReadings;
      this.#newestTurn = backlog && !this.#newestTurn;
      const rows = this.#newestTurn ? this.outbox.newest(this.opts.batchReadings) : this.outbox.oldest(this.opts.batchReadings);
      const ok = await this.#send(rows);
      this.#failing = !ok;
      this.#status.backingOff = !ok;
      if (ok) {
        if (this.#warned && this.outbox.size < 0.5 * this.opts.warnAt * this.opts.maxQueued) this.#warned = false;
        if (!this.#warned) this.#healthyOrFewer();
        continue;
      }
      // Every central host is down: the pool probes them and wakes this loop when one answers.
      if (!this.pool.anyUp()) await sleep(this.opts.backoff.maxMs, this.#wait);
    }
  }

  /** Running when every central host is up; degraded, naming them, while some are down but another takes the readings. */
  #healthyOrFewer(): void {
    const down = this.pool.down();
    if (down.length === 0) this.host.setHealthy();
    else this.host.setDegraded(`${down.length} of ${this.pool.size} central hosts unreachable: ${down.join(', ')}`);
  }

  /** Sends a batch to the first target that takes it; true when every group was confirmed or refused for good. */
  async #send(rows: readonly OutboxRow[]): Promise<boolean> {
    const groups = new Map<string, OutboxRow[]>();
    for (const r of rows) {
      const key = `${r.meterId}\u0000${r.family}`;
      const list = groups.get(key) ?? [];
      list.push(r);
      groups.set(key, list);
    }
    const pending = [...groups.values()];
    const tried = new Set<Target>();
    for (let target = this.pool.pick(); target; ) {
      const failure = await this.#sendTo(target, pending);
      if (failure === undefined) {
        this.pool.batchDone(target);
        return true;
      }
      tried.add(target);
      const next = this.pool.pick(tried);
      this.pool.failed(target, failure, next);
      this.#status.lastError = { message: failure, at: new Date().toISOString() };
      this.host.setDegraded(failure.slice(0, 200));
      target = next;
    }
    return false;
  }

  /**
   * Posts the pending groups to one central host, taking each off the list once
   * it is confirmed or refused for good. Resolves with the reason of a
   * transient failure (the groups left go to another host), or undefined.
   */
  async #sendTo(target: Target, pending: OutboxRow[][]): Promise<string | undefined> {
    const { client } = target;
    while (pending.length > 0) {
      const list = pending[0]!;
      const { meterId, family } = list[0]!;
      const path = `api/meters/${encodeURIComponent(meterId)}/${family}/`;
      const body = list.map((r) => ({ timestamp: r.ts, values: r.values }));
      let result = await client.post(path, body);
      let creation: string | undefined;
      if (result.status === 404 && this.opts.createMeter) {
        creation = await this.opts.createMeter(meterId, client);
        if (creation === undefined) {
          this.host.log.info({ meter: meterId }, `created meter ${meterId} on ${client.origin}`);
          result = await client.post(path, body);
        }
      }
      const at = new Date().toISOString();
      if (result.status >= 200 && result.status < 300) {
        pending.shift();
        this.outbox.remove(list.map((r) => r.id));
        this.pool.delivered(target, list.length);
        this.#status.sent += list.length;
        this.#status.lastSuccess = at;
        continue;
      }
      const reason = (result.status ? `${client.origin} answered ${result.status}: ${result.body.slice(0, 300)}` : `${client.origin} unreachable: ${result.error}`)
        + (creation ? `; creating the meter failed: ${creation}` : '');
      if (result.status === 400 || result.status === 404 || result.status === 413) {
        // Never accepted however often it is sent: set aside, kept, reported.
        pending.shift();
        this.outbox.reject(list.map((r) => r.id), reason);
        this.#status.rejected += list.length;
        this.#status.lastError = { message: reason, at };
        this.host.log.error({ meter: meterId, family, rows: list.length, status: result.status }, `central host refused readings of ${meterId}; kept in the outbox's rejected table`);
        this.host.setDegraded(`readings of ${meterId} refused: ${result.status}`);
        continue;
      }
      return reason;
    }
    return undefined;
  }
}
