import { join } from 'node:path';
import type { Knex } from 'knex';
import { describeError, MeterhubError, type LatestValues, type MeasurementFamily, type Reading } from '@meterhub/sdk';
import type { TariffBook } from '../tariffs/tariff-plan.js';
import { LatestValuesStore } from '../readings/latest-values.js';
import type { HostConfig, MeterConfig } from '../config/host-config.js';
import type { Logger } from '../logging/logger.js';
import { queryConsumption, queryHistory, queryPages, type ConsumptionPeriod, type HistoryPage, type HistoryRequest, type HistoryResult, type PagesRequest } from './history-queries.js';
import { IngestQueue, type IngestOutcome } from './ingest-queue.js';
import { IngestSpool, type SpooledReading } from './ingest-spool.js';
import { databaseOpenError } from './database-open-error.js';
import { createKnex, storageTarget, type StorageTarget } from './knex-factory.js';
import { MeasurementCodes } from './measurement-codes.js';
import { MeterRepository } from './meter-repository.js';
import { TariffRepository } from './tariff-repository.js';
import { forEachPacked } from './packed-values.js';
import { PgReadingStore } from './pg-reading-store.js';
import { FAMILIES, type ReadingStore } from './reading-store.js';
import { deleteExpired, rollUpBatch, type RetentionPolicy } from './rollup-job.js';
import { migrateLatest } from './schema-migrations.js';
import { SqliteReadingStore } from './sqlite-reading-store.js';
import { ensureReadingViews } from './sql-views.js';
import { enableTimescale } from './timescale.js';
import { TimeSlice } from './time-slice.js';
import type { Period } from './time-zones.js';
import { LayoutCache, type ValueLayout } from './value-layout.js';

/** A minute is left to the periodic rollup job once it ended this long ago: its readings have arrived, even from collectors a few seconds behind. */
const SETTLED_AFTER_MS = 70_000;

export interface StorageSettings {
  target: StorageTarget;
  dataDir: string;
  retention: RetentionPolicy;
  ingest: { maxBatch: number; maxDelayMs: number; maxPending: number };
  spoolMaxRows: number;
  /** How often dirty minutes are rolled up. */
  rollupIntervalMs: number;
}

/** A reading ready for the ingest queue: its meter resolved to a ref, its values split by family (the layout). */
export interface PreparedReading {
  reading: SpooledReading;
  layout: ValueLayout;
}

/** Storage settings from the validated config. */
export function storageSettings(config: Pick<HostConfig, 'storage' | 'dataDir'>): StorageSettings {
  const s = config.storage;
  return {
    target: storageTarget(config),
    dataDir: config.dataDir,
    retention: s.retention,
    ingest: s.ingest,
    spoolMaxRows: s.spoolMaxRows,
    rollupIntervalMs: 15_000,
  };
}

/**
 * Everything the host stores: the schema, meters, readings with their ingest
 * queue, rollups and retention, and the queries over them. Readings reach it
 * from the reading pipeline (core/src/readings), which owns the one
 * latest-values store; storage fills that store from the database at open.
 */
export class StorageService {
  readonly #refs = new Map<string, number>();
  readonly #layouts: LayoutCache;
  #pricing: TariffBook | undefined;
  /** Tariffs and assignments made over the API (the config file's stay in the file). */
  readonly tariffs: TariffRepository;
  /** The layout each meter used last: readings of one meter nearly always share it. */
  readonly #lastLayout = new Map<number, ValueLayout>();
  #jobs: NodeJS.Timeout[] = [];
  /** This host's rollup batches, one after another (PostgreSQL). */
  #rollups: Promise<void> = Promise.resolve();
  #closed = false;

  private constructor(
    readonly knex: Knex,
    readonly store: ReadingStore,
    readonly codes: MeasurementCodes,
    readonly meters: MeterRepository,
    readonly queue: IngestQueue,
    readonly spool: IngestSpool,
    private readonly settings: StorageSettings,
    private readonly log: Logger,
    layouts: LayoutCache,
    /** The host's one latest-values store (the pipeline's); storage warms it and forgets deleted meters. */
    readonly latestValues: LatestValuesStore,
  ) {
    this.#layouts = layouts;
    this.tariffs = new TariffRepository(knex);
  }

  /** Opens the database, brings the schema up to date and warms the latest-values cache. */
  static async open(settings: StorageSettings, log: Logger, latestValues = new LatestValuesStore()): Promise<StorageService> {
    // Connection errors during an outage are expected; the ingest queue reports them once.
    const knex = createKnex(settings.target, { warn: (m) => log.debug({ knex: m }, 'database driver warning') });
    try {
      const applied = await migrateLatest(knex);
      if (applied.length) log.info({ migrations: applied }, 'database schema migrated');
      if (settings.target.engine === 'postgres') {
        // The SQL views follow the vocabulary of this release (rebuilt only when it changed). A rebuild
        // that fails (a user's own view depends on them) keeps the previous views and must not stop the host.
        await ensureReadingViews(knex).catch((err: unknown) => log.warn({ err: describeError(err) }, 'SQL views in schema meterhub not rebuilt; they keep their previous columns'));
        const timescale = await enableTimescale(knex);
        log.info({ timescale }, timescale === 'unavailable' ? 'TimescaleDB not available: plain PostgreSQL tables' : `TimescaleDB hypertables ${timescale}`);
      }
    } catch (err) {
      await knex.destroy();
      throw databaseOpenError(err, settings.target);
    }
    const store: ReadingStore = settings.target.engine === 'sqlite' ? new SqliteReadingStore(settings.target.filename!) : new PgReadingStore(knex);
    const codes = new MeasurementCodes(knex);
    await codes.load();
    const spool = new IngestSpool(join(settings.dataDir, 'spool', 'ingest-spool.db'), settings.spoolMaxRows);
    const layouts = new LayoutCache(codes);
    // SQLite writes hold the event loop while they run: keep each within a few milliseconds.
    const ingest = settings.target.engine === 'sqlite' ? { ...settings.ingest, writeBudgetMs: 4 } : settings.ingest;
    const queue = new IngestQueue((b) => store.write(b), layouts, spool, ingest, log);
    const service = new StorageService(knex, store, codes, new MeterRepository(knex), queue, spool, settings, log, layouts, latestValues);
    await service.#warmLatest();
    if (spool.size > 0) {
      log.info({ spooled: spool.size }, 'readings left in the spool from last time; writing them now');
      void queue.flush();
    }
    return service;
  }

  get engine(): StorageTarget['engine'] {
    return this.settings.target.engine;
  }

  async #warmLatest(): Promise<void> {
    const keys = new Map<number, string>();
    for (const m of await this.meters.list()) {
      this.#refs.set(m.key, m.ref);
      keys.set(m.ref, m.key);
    }
    const none: readonly string[] = [];
    for (const family of FAMILIES) {
      for (const row of await this.store.latest(family)) {
        const key = keys.get(row.meterRef);
        if (key === undefined) continue;
        const values: Record<string, number> = {};
        forEachPacked(row.data, (code, v) => {
          const id = this.codes.id(code);
          if (id) values[id] = v;
        });
        const ids = Object.keys(values);
        this.latestValues.update(key, row.ts, values, family === 'power' ? { power: ids, energy: none } : { power: none, energy: ids });
      }
    }
  }

  /**
   * Upserts the config file's meters by their stable key; config meters that
   * left the file are disabled (their history stays). Returns the keys disabled.
   */
  async syncConfigMeters(meters: readonly MeterConfig[]): Promise<string[]> {
    for (const m of await this.meters.upsertFromConfig(meters)) this.#refs.set(m.key, m.ref);
    return this.meters.disableMissingConfigMeters(meters.map((m) => m.id));
  }

  /** Deletes a meter with its readings and rollups, in one transaction. */
  async deleteMeter(ref: number): Promise<void> {
    await this.queue.flush();
    await this.queue.serial(() => this.knex.transaction(async (trx) => {
      for (const t of ['readings_power', 'readings_energy', 'rollups_power', 'rollups_energy', 'rollup_dirty']) await trx(t).where({ meter_ref: ref }).delete();
      await trx('meters').where({ ref }).delete();
    }));
    for (const [key, r] of this.#refs) {
      if (r !== ref) continue;
      this.#refs.delete(key);
      this.latestValues.delete(key);
    }
    this.#lastLayout.delete(ref);
  }

  async refOf(meterKey: string): Promise<number | undefined> {
    let ref = this.#refs.get(meterKey);
    if (ref === undefined) {
      ref = (await this.meters.byKey(meterKey))?.ref;
      if (ref !== undefined) this.#refs.set(meterKey, ref);
    }
    return ref;
  }

  async meterExists(meterKey: string): Promise<boolean> {
    return (await this.refOf(meterKey)) !== undefined;
  }

  /** The ref of a meter known to this process, without a query: for the polling path, which must not wait. */
  cachedRef(meterKey: string): number | undefined {
    return this.#refs.get(meterKey);
  }

  /** The ref of a meter; METERHUB_ERR_HTTP_NOT_FOUND when it is not in the database. */
  async requireRef(meterKey: string): Promise<number> {
    const ref = await this.refOf(meterKey);
    if (ref === undefined) throw new MeterhubError('METERHUB_ERR_HTTP_NOT_FOUND', `no meter "${meterKey}"`);
    return ref;
  }

  /** Resolves a reading for the queue: packed with the meter's usual layout, which also splits its values by family. */
  prepare(ref: number, reading: Reading): PreparedReading {
    let layout = this.#lastLayout.get(ref);
    layout = this.#layouts.of(reading.values, layout);
    this.#lastLayout.set(ref, layout);
    return { reading: { meterRef: ref, ts: reading.ts, values: reading.values }, layout };
  }

  /** Queues a prepared reading without waiting (the scheduler must not block); a full queue spills to the spool. */
  offerPrepared(item: PreparedReading): void {
    this.queue.offer(item.reading, item.layout);
  }

  /** Queues prepared readings written at once, without the batch delay; resolves when all are committed or spooled. */
  async enqueuePrepared(items: readonly PreparedReading[]): Promise<{ stored: number; spooled: number }> {
    const outcomes = await this.queue.enqueueAll(items);
    const spooled = outcomes.filter((o) => o === 'spooled').length;
    return { stored: outcomes.length - spooled, spooled };
  }

  /**
   * Writes readings to the database only: no latest values, no subscribers.
   * For tools that move history (db copy, tests of the storage layer); the
   * host's readings enter through the reading pipeline.
   */
  async ingestBatch(readings: readonly Reading[]): Promise<{ stored: number; spooled: number }> {
    const refs = new Map<string, number>();
    for (const id of new Set(readings.map((r) => r.meterId))) refs.set(id, await this.requireRef(id));
    return this.enqueuePrepared(readings.map((r) => this.prepare(refs.get(r.meterId)!, r)));
  }

  /** `ingestBatch` without waiting, for a known meter (an unknown one is dropped with a warning). */
  offer(reading: Reading): void {
    const ref = this.cachedRef(reading.meterId);
    if (ref === undefined) this.log.warn({ meter: reading.meterId }, 'reading for a meter that is not in the database; dropped');
    else this.offerPrepared(this.prepare(ref, reading));
  }

  /** `ingestBatch` for one reading. */
  async ingest(reading: Reading): Promise<IngestOutcome> {
    const { stored } = await this.ingestBatch([reading]);
    return stored === 1 ? 'stored' : 'spooled';
  }

  /** The newest values of a meter, from the host's one latest-values store. */
  latest(meterKey: string, family: MeasurementFamily): LatestValues | undefined {
    return this.latestValues.latest(meterKey, family);
  }

  /**
   * Brings rollups up to date (with `before`, the minutes that start before
   * it), a batch at a time: after a backfill this is many batches, and
   * readings queued meanwhile are written between two of them rather than
   * after all.
   */
  async #rollUp(before?: number): Promise<number> {
    let done = 0;
    for (;;) {
      const batch = await this.#rollupTurn(() => rollUpBatch(this.store, 'auto', new TimeSlice(), before));
      done += batch.done;
      if (!batch.more) return done;
    }
  }

  /**
   * SQLite has one writer: a rollup batch takes its turn. PostgreSQL runs the
   * batch beside the writer (the marks are claimed, pg-reading-store.ts), so
   * commits never wait for rollups; one batch at a time on this host, and
   * under the database's rollup lock among hosts.
   */
  #rollupTurn<T>(fn: () => Promise<T>): Promise<T> {
    if (this.store.engine === 'sqlite') return this.queue.serial(fn);
    const run = this.#rollups.then(() => this.store.rollupTurn(fn));
    this.#rollups = run.then(() => undefined, () => undefined);
    return run;
  }

  /** Writes pending readings and brings rollups up to date; returns the meter-minutes rolled up. */
  async refresh(): Promise<number> {
    await this.queue.flush();
    return this.#rollUp();
  }

  async history(meterKey: string, req: Omit<HistoryRequest, 'meterRef'>): Promise<HistoryResult> {
    const ref = await this.requireRef(meterKey);
    if (req.resolution !== 'raw') await this.#rollUp();
    return queryHistory(this.store, this.codes, { ...req, meterRef: ref });
  }

  /** History in pages, oldest first (exports); rollups are brought up to date first. */
  async *pages(meterKey: string, req: Omit<PagesRequest, 'meterRef'>): AsyncGenerator<HistoryPage> {
    const ref = await this.requireRef(meterKey);
    if (req.resolution !== 'raw') await this.#rollUp();
    yield* queryPages(this.store, this.codes, { ...req, meterRef: ref });
  }

  /** The tariffs consumption answers are priced with (the tariff registry hands over each new book). */
  useTariffs(book: TariffBook | undefined): void {
    this.#pricing = book;
  }

  /** Consumption per local period; for a meter with a tariff, each period's cost too. */
  async consumption(meterKey: string, req: { period: Period; tz: string; from: number; to: number; measurements?: readonly string[] }): Promise<ConsumptionPeriod[]> {
    const ref = await this.requireRef(meterKey);
    await this.#rollUp();
    const tariff = this.#pricing?.forMeter(meterKey);
    return queryConsumption(this.store, this.codes, { ...req, meterRef: ref, ...(tariff ? { tariff } : {}) });
  }

  async ping(): Promise<boolean> {
    try {
      await this.knex.raw('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Runs retention now (the periodic job calls this too): rollups first, the
   * way every rollup runs (beside the writer and under the database's lock on
   * PostgreSQL), then the deletes in the writer's turn.
   */
  async retention(now = Date.now()): Promise<Record<string, number>> {
    await this.#rollUp();
    return this.queue.serial(() => deleteExpired(this.store, this.settings.retention, now));
  }

  /** Starts the periodic rollup and retention jobs. */
  startJobs(): void {
    const guard = (what: string, fn: () => Promise<unknown>) => () => {
      fn().catch((err: unknown) => this.log.warn({ err: describeError(err) }, `${what} failed; retrying later`));
    };
    // Minutes still being read are left to later runs: each minute is then rolled up once, not at every run while it fills.
    const rollups = setInterval(guard('rollups', () => this.#rollUp(Date.now() - SETTLED_AFTER_MS)), this.settings.rollupIntervalMs);
    const retention = setInterval(guard('retention', () => this.retention()), 3_600_000);
    rollups.unref();
    retention.unref();
    this.#jobs.push(rollups, retention);
  }

  status(): Record<string, unknown> {
    if (this.#closed) return { engine: this.engine, closed: true, stored: this.queue.stored };
    return {
      engine: this.engine,
      pending: this.queue.pending,
      stored: this.queue.stored,
      spooled: this.spool.size,
      spoolDropped: this.spool.dropped,
      lastError: this.queue.lastError,
    };
  }

  /**
   * Flushes pending readings, rolls up, and closes the database. A bulk import
   * passes `rollUp: false`: the minutes it wrote stay marked dirty in the
   * database, and the host's rollup job (or the first rolled-up query) does them.
   */
  async close(opts: { rollUp?: boolean } = {}): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#jobs.forEach(clearInterval);
    await this.queue.close();
    if (opts.rollUp !== false) await this.#rollUp().catch(() => undefined);
    // A periodic batch running beside the writer (PostgreSQL) ends before the pool does.
    await this.#rollups;
    await this.store.close();
    this.spool.close();
    await this.knex.destroy();
  }
}
