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
 * per batch carrying every meter and family (per meter and family to an older
 * central host), rows removed only once confirmed. A transient failure
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
  /** Central hosts without the bulk endpoint (an older version): sent one request per meter and family. */
  readonly #perMeter = new Set<Target>();

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
      // Down now; it may come back upgraded, so the bulk endpoint is tried again then.
      this.#perMeter.delete(target);
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
   * All groups go in one request to `/api/readings/`; a host that does not
   * know that path (404, 405: an older version) gets one request per meter and
   * family, remembered until it fails (it may come back upgraded).
   */
  async #sendTo(target: Target, pending: OutboxRow[][]): Promise<string | undefined> {
    if (!this.#perMeter.has(target)) {
      const outcome = await this.#sendBulk(target, pending);
      if (outcome !== PER_METER && outcome !== NO_BULK) return outcome;
      if (outcome === NO_BULK) {
        this.#perMeter.add(target);
        this.host.log.info({ server: target.client.origin }, `${target.client.origin} has no bulk endpoint (an older version): sending one request per meter and family`);
      }
    }
    return this.#sendPerMeter(target, pending);
  }

  /**
   * One request carrying every pending group; the answer says per group:
   * stored, unknown meter (created when createMeters is on, then sent again)
   * or invalid (set aside). A whole body refused (400, 413: larger than the
   * host's body limit) is sent again per meter, so only what is at fault is set aside.
   */
  async #sendBulk(target: Target, pending: OutboxRow[][]): Promise<string | typeof NO_BULK | typeof PER_METER | undefined> {
    const { client } = target;
    // Per meter: why creating it failed (undefined: created); meters sent again after their creation.
    const created = new Map<string, string | undefined>();
    const resent = new Set<string>();
    while (pending.length > 0) {
      const body = { groups: pending.map((list) => ({ meter: list[0]!.meterId, family: list[0]!.family, readings: list.map((r) => ({ timestamp: r.ts, values: r.values })) })) };
      const result = await client.post('api/readings/', body);
      if (result.status === 404 || result.status === 405) return NO_BULK;
      if (result.status === 400 || result.status === 413) return PER_METER;
      const outcomes = result.status >= 200 && result.status < 300 ? groupOutcomes(result.body, pending.length) : undefined;
      if (!outcomes) {
        return result.status ? `${client.origin} answered ${result.status}: ${result.body.slice(0, 300)}` : `${client.origin} unreachable: ${result.error}`;
      }
      const again: OutboxRow[][] = [];
      for (const [i, list] of pending.entries()) {
        const { status, errors } = outcomes[i]!;
        const meterId = list[0]!.meterId;
        if (status === 'stored') {
          this.#confirmed(target, list);
          continue;
        }
        if (status !== 'unknown_meter') {
          this.#setAside(list, `${client.origin} answered ${status} (as 400 per meter): ${JSON.stringify(errors ?? []).slice(0, 300)}`, 400);
          continue;
        }
        // Unknown: created (once per meter, both families wait for it) and sent again once, as the per-meter path does.
        if (this.opts.createMeter && !resent.has(meterId) && !created.has(meterId)) {
          const creation = await this.opts.createMeter(meterId, client);
          created.set(meterId, creation);
          if (creation === undefined) this.host.log.info({ meter: meterId }, `created meter ${meterId} on ${client.origin}`);
        }
        if (created.has(meterId) && created.get(meterId) === undefined && !resent.has(meterId)) again.push(list);
        else this.#setAside(list, `${client.origin} answered unknown_meter (as 404 per meter): no meter "${meterId}"${created.get(meterId) ? `; creating the meter failed: ${created.get(meterId)}` : ''}`, 404);
      }
      for (const list of again) resent.add(list[0]!.meterId);
      pending.splice(0, pending.length, ...again);
    }
    return undefined;
  }

  /** One POST per meter and family, for central hosts without the bulk endpoint. */
  async #sendPerMeter(target: Target, pending: OutboxRow[][]): Promise<string | undefined> {
    const { client } = target;
    while (pending.length > 0) {
      const list = pending[0]!;
      const { meterId } = list[0]!;
      const path = `api/meters/${encodeURIComponent(meterId)}/${list[0]!.family}/`;
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
      if (result.status >= 200 && result.status < 300) {
        pending.shift();
        this.#confirmed(target, list);
        continue;
      }
      const reason = (result.status ? `${client.origin} answered ${result.status}: ${result.body.slice(0, 300)}` : `${client.origin} unreachable: ${result.error}`)
        + (creation ? `; creating the meter failed: ${creation}` : '');
      if (result.status === 400 || result.status === 404 || result.status === 413) {
        pending.shift();
        this.#setAside(list, reason, result.status);
        continue;
      }
      return reason;
    }
    return undefined;
  }

  /** The central host took these rows: off the outbox. */
  #confirmed(target: Target, list: readonly OutboxRow[]): void {
    this.outbox.remove(list.map((r) => r.id));
    this.pool.delivered(target, list.length);
    this.#status.sent += list.length;
    this.#status.lastSuccess = new Date().toISOString();
  }

  /** Never accepted however often they are sent: set aside, kept, reported. */
  #setAside(list: readonly OutboxRow[], reason: string, status: number): void {
    const { meterId, family } = list[0]!;
    this.outbox.reject(list.map((r) => r.id), reason);
    this.#status.rejected += list.length;
    this.#status.lastError = { message: reason, at: new Date().toISOString() };
    this.host.log.error({ meter: meterId, family, rows: list.length, status }, `central host refused readings of ${meterId}; kept in the outbox's rejected table`);
    this.host.setDegraded(`readings of ${meterId} refused: ${status}`);
  }
}

const NO_BULK = Symbol('no bulk endpoint');
const PER_METER = Symbol('per meter this round');

/** Each group's outcome from a bulk answer, in the order sent; undefined when the answer is not one (then the request failed). */
function groupOutcomes(text: string, groups: number): Array<{ status: string; errors?: unknown }> | undefined {
  try {
    const results = (JSON.parse(text) as { results?: unknown }).results;
    if (!Array.isArray(results) || results.length !== groups) return undefined;
    return results.every((r) => typeof (r as { status?: unknown })?.status === 'string') ? results as Array<{ status: string; errors?: unknown }> : undefined;
  } catch {
    return undefined;
  }
}
