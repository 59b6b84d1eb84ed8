import { performance } from 'node:perf_hooks';
import { describeError } from '@meterhub/sdk';
import type { Logger } from '../logging/logger.js';
import type { IngestSpool, SpooledReading } from './ingest-spool.js';
import type { WriteBatch } from './reading-store.js';
import { TimeSlice } from './time-slice.js';
import { packWithLayout, type LayoutCache, type ValueLayout } from './value-layout.js';

export type IngestOutcome = 'stored' | 'spooled';

export interface IngestOptions {
  /** Readings per database transaction. */
  maxBatch: number;
  /** Longest a reading waits for its batch to fill. */
  maxDelayMs: number;
  /** Readings held in memory before producers are made to wait (or spilled to the spool). */
  maxPending: number;
  /**
   * For a synchronous database (SQLite through better-sqlite3, whose writes
   * hold the event loop): the longest one write should take. Batches shrink
   * below `maxBatch` to fit it, from the time the last writes took per row.
   */
  writeBudgetMs?: number;
}

/** The fewest readings a budgeted batch takes: below it, per-transaction costs dominate. */
const MIN_BUDGETED_BATCH = 100;

interface Pending {
  reading: SpooledReading;
  layout: ValueLayout;
  resolve?: (o: IngestOutcome) => void;
  reject?: (err: unknown) => void;
}

/**
 * The one path into storage, for the bus scheduler and REST submissions alike.
 * Readings are batched by size and by time, each batch is one transaction, and
 * a reading counts as taken only once its batch committed (or, while the
 * database is unreachable, once it is in the on-disk spool). Memory stays
 * bounded: producers wait when too much is pending.
 */
export class IngestQueue {
  #pending: Pending[] = [];
  #timer: NodeJS.Timeout | undefined;
  #chain: Promise<void> = Promise.resolve();
  #waiters: Array<() => void> = [];
  #retry: NodeJS.Timeout | undefined;
  #closed = false;
  /** A flush is queued on the writer chain and has not taken its items yet. */
  #flushQueued = false;
  /** Measured cost of a write per reading (moving average), for `writeBudgetMs`. */
  #msPerReading = 0;
  stored = 0;
  spooled = 0;
  lastError: { message: string; at: string } | null = null;

  constructor(
    private readonly write: (batches: WriteBatch[]) => Promise<void>,
    private readonly layouts: LayoutCache,
    private readonly spool: IngestSpool,
    private readonly opts: IngestOptions,
    private readonly log: Logger,
  ) {}

  get pending(): number {
    return this.#pending.length;
  }

  /** Queues a reading; resolves once it is committed (or spooled). Waits while the queue is full. */
  async enqueue(reading: SpooledReading, layout: ValueLayout = this.layouts.of(reading.values)): Promise<IngestOutcome> {
    while (this.#pending.length >= this.opts.maxPending && !this.#closed) await new Promise<void>((r) => this.#waiters.push(r));
    return new Promise<IngestOutcome>((resolve, reject) => {
      this.#pending.push({ reading, layout, resolve, reject });
      this.#schedule();
    });
  }

  /**
   * Queues readings a caller waits for together (one REST batch): they are
   * written at once rather than after the batch delay, which would otherwise
   * be most of a submission's round trip.
   */
  enqueueAll(items: ReadonlyArray<{ reading: SpooledReading; layout: ValueLayout }>): Promise<IngestOutcome[]> {
    const outcomes = Promise.all(items.map((i) => this.enqueue(i.reading, i.layout)));
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (!this.#flushQueued) void this.flush();
    return outcomes;
  }

  /**
   * Queues a reading without waiting, for the synchronous readings bus. When the
   * queue is full the reading goes straight to the on-disk spool rather than
   * growing memory.
   */
  offer(reading: SpooledReading, layout: ValueLayout = this.layouts.of(reading.values)): void {
    if (this.#pending.length >= this.opts.maxPending) {
      this.spool.append([reading]);
      this.spooled++;
      this.#scheduleDrain(0);
      return;
    }
    this.#pending.push({ reading, layout });
    this.#schedule();
  }

  #schedule(): void {
    if (this.#pending.length >= this.opts.maxBatch) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      // One queued flush takes everything pending when it runs; more would only queue empty work.
      if (!this.#flushQueued) void this.flush();
    } else if (!this.#timer && !this.#flushQueued) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        void this.flush();
      }, this.opts.maxDelayMs);
    }
  }

  /** Turns readings into one batch per family, packed with this database's measurement codes. */
  async #toBatches(items: ReadonlyArray<{ reading: SpooledReading; layout: ValueLayout }>): Promise<WriteBatch[]> {
    for (const { layout } of items) if (!layout.resolved) await this.layouts.resolve(layout);
    const power: WriteBatch = { family: 'power', rows: [] };
    const energy: WriteBatch = { family: 'energy', rows: [] };
    for (const { reading: r, layout: l } of items) {
      const p = packWithLayout(r.values, l.families.power.ids, l.families.power.codes);
      if (p) power.rows.push({ meterRef: r.meterRef, ts: r.ts, data: p });
      const e = packWithLayout(r.values, l.families.energy.ids, l.families.energy.codes);
      if (e) energy.rows.push({ meterRef: r.meterRef, ts: r.ts, data: e });
    }
    return [power, energy].filter((b) => b.rows.length > 0);
  }

  /** Readings per transaction: `maxBatch`, or fewer when a write must fit `writeBudgetMs`. */
  #batchSize(): number {
    const budget = this.opts.writeBudgetMs;
    if (budget === undefined || this.#msPerReading === 0) return this.opts.maxBatch;
    return Math.max(MIN_BUDGETED_BATCH, Math.min(this.opts.maxBatch, Math.floor(budget / this.#msPerReading)));
  }

  /** Writes one batch, timing it when writes are budgeted. */
  async #write(batches: WriteBatch[], readings: number): Promise<void> {
    if (this.opts.writeBudgetMs === undefined) return this.write(batches);
    const t0 = performance.now();
    await this.write(batches);
    const perReading = (performance.now() - t0) / Math.max(1, readings);
    this.#msPerReading = this.#msPerReading === 0 ? perReading : 0.7 * this.#msPerReading + 0.3 * perReading;
  }

  /** Writes everything pending; serialised with the other writers (rollups, drains). */
  flush(): Promise<void> {
    this.#flushQueued = true;
    return this.serial(async () => {
      this.#flushQueued = false;
      const slice = new TimeSlice();
      while (this.#pending.length > 0) {
        // A bulk submission is many batches: let polls and requests run between them.
        await slice.pause();
        const items = this.#pending.splice(0, this.#batchSize());
        this.#wake();
        const readings = items.map((i) => i.reading);
        try {
          await this.#write(await this.#toBatches(items), items.length);
          this.stored += readings.length;
          items.forEach((i) => i.resolve?.('stored'));
        } catch (err) {
          this.#noteError(err);
          try {
            this.spool.append(readings);
            this.spooled += readings.length;
            items.forEach((i) => i.resolve?.('spooled'));
            this.#scheduleDrain(1000);
          } catch (spoolErr) {
            items.forEach((i) => i.reject?.(spoolErr));
            this.log.error({ err: describeError(spoolErr), readings: readings.length }, 'readings lost: neither the database nor the spool took them');
          }
          return;
        }
      }
      await this.#drainSpool();
    });
  }

  #noteError(err: unknown): void {
    const message = describeError(err);
    if (this.lastError?.message !== message) this.log.warn({ err: message }, 'database write failed; readings go to the spool until it is back');
    this.lastError = { message, at: new Date().toISOString() };
  }

  /** Moves spooled readings into the database, oldest first, while it accepts them. */
  async #drainSpool(): Promise<void> {
    const slice = new TimeSlice();
    for (;;) {
      await slice.pause();
      const { upTo, readings } = this.spool.peek(this.#batchSize());
      if (readings.length === 0) return;
      try {
        await this.#write(await this.#toBatches(readings.map((reading) => ({ reading, layout: this.layouts.of(reading.values) }))), readings.length);
      } catch (err) {
        this.#noteError(err);
        this.#scheduleDrain(2000);
        return;
      }
      this.spool.remove(upTo);
      this.stored += readings.length;
      if (this.spool.size === 0) this.log.info('spool drained: the database has every reading');
    }
  }

  #scheduleDrain(ms: number): void {
    if (this.#retry || this.#closed) return;
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      void this.flush();
    }, ms);
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    waiters.forEach((w) => w());
  }

  /** Runs `fn` after every write already queued: one writer at a time. */
  serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(fn);
    this.#chain = run.then(() => undefined, () => undefined);
    return run;
  }

  /** Flushes what is pending and stops retrying. */
  async close(): Promise<void> {
    clearTimeout(this.#timer);
    await this.flush();
    this.#closed = true;
    clearTimeout(this.#retry);
    this.#wake();
  }
}
