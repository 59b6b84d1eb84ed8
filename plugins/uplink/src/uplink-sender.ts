import type { HostApi } from '@meterhub/sdk';
import type { CentralClient } from './central-client.js';
import type { Outbox, OutboxRow } from './outbox.js';

export interface SenderOptions {
  batchReadings: number;
  batchDelayMs: number;
  maxQueued: number;
  warnAt: number;
  backoff: { initialMs: number; maxMs: number };
  /** Creates a meter the central host does not know; resolves with why not when it cannot. */
  createMeter?: (remoteId: string) => Promise<string | undefined>;
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
 * Drains the outbox to the central host: batches by size and time, one POST
 * per meter and family, rows removed only once confirmed. A transient failure
 * (no answer, 5xx, 429) backs off exponentially with jitter and retries the
 * same rows; a backlog is replayed at full speed, alternating its oldest and
 * its newest rows so live values are not stuck behind hours of history (the
 * central host's ingest is idempotent on meter and time, so order does not matter).
 */
export class UplinkSender {
  readonly #status: SenderStatus = { queued: 0, oldestAgeSeconds: null, sent: 0, rejected: 0, dropped: 0, lastSuccess: null, lastError: null, backingOff: false };
  readonly #wait: { wake?: () => void } = {};
  #running = false;
  #loop: Promise<void> | undefined;
  #failures = 0;
  #newestTurn = false;
  #warned = false;

  constructor(private readonly outbox: Outbox, private readonly client: CentralClient, private readonly host: HostApi, private readonly opts: SenderOptions) {
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

  async stop(): Promise<void> {
    this.#running = false;
    this.#wait.wake?.();
    await this.#loop;
  }

  async #run(): Promise<void> {
    while (this.#running) {
      if (this.outbox.size === 0 || (this.outbox.size < this.opts.batchReadings && !this.#failures)) {
        // Wait for a batch to fill, or for the batch delay to pass.
        await sleep(this.opts.batchDelayMs, this.#wait);
        if (!this.#running) break;
        if (this.outbox.size === 0) continue;
      }
      const backlog = this.outbox.size > 2 * this.opts.batchReadings;
      this.#newestTurn = backlog && !this.#newestTurn;
      const rows = this.#newestTurn ? this.outbox.newest(this.opts.batchReadings) : this.outbox.oldest(this.opts.batchReadings);
      const ok = await this.#send(rows);
      if (ok) {
        this.#failures = 0;
        this.#status.backingOff = false;
        if (this.#warned && this.outbox.size < 0.5 * this.opts.warnAt * this.opts.maxQueued) this.#warned = false;
        if (!this.#warned) this.host.setHealthy();
        continue;
      }
      this.#failures++;
      this.#status.backingOff = true;
      const base = Math.min(this.opts.backoff.maxMs, this.opts.backoff.initialMs * 2 ** (this.#failures - 1));
      await sleep(base / 2 + Math.random() * base / 2, this.#wait);
    }
  }

  /** Posts rows grouped by meter and family; true when every group was confirmed or refused for good. */
  async #send(rows: readonly OutboxRow[]): Promise<boolean> {
    const groups = new Map<string, OutboxRow[]>();
    for (const r of rows) {
      const key = `${r.meterId}\u0000${r.family}`;
      const list = groups.get(key) ?? [];
      list.push(r);
      groups.set(key, list);
    }
    for (const list of groups.values()) {
      const { meterId, family } = list[0]!;
      const path = `api/meters/${encodeURIComponent(meterId)}/${family}/`;
      const body = list.map((r) => ({ timestamp: r.ts, values: r.values }));
      let result = await this.client.post(path, body);
      let creation: string | undefined;
      if (result.status === 404 && this.opts.createMeter) {
        creation = await this.opts.createMeter(meterId);
        if (creation === undefined) {
          this.host.log.info({ meter: meterId }, `created meter ${meterId} on ${this.client.origin}`);
          result = await this.client.post(path, body);
        }
      }
      const at = new Date().toISOString();
      if (result.status >= 200 && result.status < 300) {
        this.outbox.remove(list.map((r) => r.id));
        this.#status.sent += list.length;
        this.#status.lastSuccess = at;
        continue;
      }
      const reason = (result.status ? `${this.client.origin} answered ${result.status}: ${result.body.slice(0, 300)}` : `${this.client.origin} unreachable: ${result.error}`)
        + (creation ? `; creating the meter failed: ${creation}` : '');
      if (result.status === 400 || result.status === 404 || result.status === 413) {
        // Never accepted however often it is sent: set aside, kept, reported.
        this.outbox.reject(list.map((r) => r.id), reason);
        this.#status.rejected += list.length;
        this.#status.lastError = { message: reason, at };
        this.host.log.error({ meter: meterId, family, rows: list.length, status: result.status }, `central host refused readings of ${meterId}; kept in the outbox's rejected table`);
        this.host.setDegraded(`readings of ${meterId} refused: ${result.status}`);
        continue;
      }
      this.#status.lastError = { message: reason, at };
      if (this.#failures === 0) this.host.log.warn({ status: result.status, error: result.error }, `uplink to ${this.client.origin} failed; retrying with back-off`);
      this.host.setDegraded(reason.slice(0, 200));
      return false;
    }
    return true;
  }
}
