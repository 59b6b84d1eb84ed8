import { join } from 'node:path';
import type { Knex } from 'knex';
import { describeError, MeterhubError, type Reading } from '@meterhub/sdk';
import type { HostConfig, MeterConfig } from '../config/host-config.js';
import type { Logger } from '../logging/logger.js';
import { queryConsumption, queryHistory, queryPages, type ConsumptionPeriod, type HistoryPage, type HistoryRequest, type HistoryResult, type PagesRequest } from './history-queries.js';
import { IngestQueue, type IngestOutcome } from './ingest-queue.js';
import { IngestSpool, type SpooledReading } from './ingest-spool.js';
import { databaseOpenError } from './database-open-error.js';
import { createKnex, storageTarget, type StorageTarget } from './knex-factory.js';
import { MeasurementCodes } from './measurement-codes.js';
import { MeterRepository } from './meter-repository.js';
import { forEachPacked } from './packed-values.js';
import { PgReadingStore } from './pg-reading-store.js';
import { FAMILIES, type Family, type ReadingStore } from './reading-store.js';
import { enforceRetention, runRollups, type RetentionPolicy } from './rollup-job.js';
import { migrateLatest } from './schema-migrations.js';
import { SqliteReadingStore } from './sqlite-reading-store.js';
import { enableTimescale } from './timescale.js';
import type { Period } from './time-zones.js';
import { LayoutCache, type ValueLayout } from './value-layout.js';

export interface StorageSettings {
  target: StorageTarget;
  dataDir: string;
  retention: RetentionPolicy;
  ingest: { maxBatch: number; maxDelayMs: number; maxPending: number };
  spoolMaxRows: number;
  /** How often dirty minutes are rolled up. */
  rollupIntervalMs: number;
}

export interface LatestValues {
  ts: number;
  values: Record<string, number>;
}

function pick(values: Record<string, number>, ids: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const id of ids) if (id in values) out[id] = values[id]!;
  return out;
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
 * path, rollups and retention, and the queries over them. The latest reading of
 * every meter is kept in memory and answered from there.
 */
export class StorageService {
  readonly #refs = new Map<string, number>();
  /**
   * Newest reading per meter and family. Values are filtered to the family on
   * the first read after a change and kept (`view`), since reads far outnumber
   * changes for a polled dashboard.
   */
  readonly #latest = new Map<number, Partial<Record<Family, { ts: number; values: Record<string, number>; ids: readonly string[]; view?: LatestValues }>>>();
  readonly #layouts: LayoutCache;
  /** The layout each meter used last: readings of one meter nearly always share it. */
  readonly #lastLayout = new Map<number, ValueLayout>();
  #jobs: NodeJS.Timeout[] = [];
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
  ) {
    this.#layouts = layouts;
  }

  /** Opens the database, brings the schema up to date and warms the latest-values cache. */
  static async open(settings: StorageSettings, log: Logger): Promise<StorageService> {
    // Connection errors during an outage are expected; the ingest queue reports them once.
    const knex = createKnex(settings.target, { warn: (m) => log.debug({ knex: m }, 'database driver warning') });
    try {
      const applied = await migrateLatest(knex);
      if (applied.length) log.info({ migrations: applied }, 'database schema migrated');
      if (settings.target.engine === 'postgres') {
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
    const queue = new IngestQueue((b) => store.write(b), layouts, spool, settings.ingest, log);
    const service = new StorageService(knex, store, codes, new MeterRepository(knex), queue, spool, settings, log, layouts);
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
    for (const m of await this.meters.list()) this.#refs.set(m.key, m.ref);
    for (const family of FAMILIES) {
      for (const row of await this.store.latest(family)) {
        const values: Record<string, number> = {};
        forEachPacked(row.data, (code, v) => {
          const id = this.codes.id(code);
          if (id) values[id] = v;
        });
        this.#latest.set(row.meterRef, { ...this.#latest.get(row.meterRef), [family]: { ts: row.ts, values, ids: Object.keys(values) } });
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
    for (const [key, r] of this.#refs) if (r === ref) this.#refs.delete(key);
    this.#latest.delete(ref);
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

  #remember(ref: number, reading: Reading, layout: ValueLayout): void {
    let entry = this.#latest.get(ref);
    if (!entry) this.#latest.set(ref, (entry = {}));
    for (const family of FAMILIES) {
      const ids = layout.families[family].ids;
      if (ids.length === 0) continue;
      const prev = entry[family];
      if (!prev) entry[family] = { ts: reading.ts, values: reading.values, ids };
      else if (reading.ts > prev.ts) {
        // Updated in place: this runs for every reading.
        prev.ts = reading.ts;
        prev.values = reading.values;
        prev.ids = ids;
        prev.view = undefined;
      } else if (reading.ts === prev.ts) {
        const values = { ...pick(prev.values, prev.ids), ...pick(reading.values, ids) };
        entry[family] = { ts: prev.ts, values, ids: Object.keys(values) };
      }
    }
  }

  #layoutOf(ref: number, values: Record<string, number>): ValueLayout {
    const layout = this.#layouts.of(values, this.#lastLayout.get(ref));
    this.#lastLayout.set(ref, layout);
    return layout;
  }

  /**
   * Takes a reading from the bus without waiting (the scheduler must not block);
   * readings of meters that are not in the database are refused with a log line.
   */
  offer(reading: Reading, keep = true): void {
    const ref = this.#refs.get(reading.meterId);
    if (ref === undefined) {
      this.log.warn({ meter: reading.meterId }, 'reading for a meter that is not in the database; dropped');
      return;
    }
    const layout = this.#layoutOf(ref, reading.values);
    this.#remember(ref, reading, layout);
    // A pure collector keeps only the latest values: its history lives on the central host.
    if (keep) this.queue.offer({ meterRef: ref, ts: reading.ts, values: reading.values }, layout);
  }

  /** A submitted reading ready for the queue: its meter resolved, its layout found, the latest values updated. */
  #prepare(ref: number, reading: Reading): { reading: SpooledReading; layout: ValueLayout } {
    const layout = this.#layoutOf(ref, reading.values);
    this.#remember(ref, reading, layout);
    return { reading: { meterRef: ref, ts: reading.ts, values: reading.values }, layout };
  }

  /** Takes a reading and resolves once it is committed (or spooled): for REST submissions. */
  async ingest(reading: Reading): Promise<IngestOutcome> {
    const item = this.#prepare(await this.#ref(reading.meterId), reading);
    return this.queue.enqueue(item.reading, item.layout);
  }

  /** Takes readings submitted together and resolves once all are committed (or spooled), without the batch delay. */
  async ingestBatch(readings: readonly Reading[]): Promise<{ stored: number; spooled: number }> {
    // A batch is nearly always one meter: look each meter up once, not once per reading.
    const refs = new Map<string, number>();
    for (const id of new Set(readings.map((r) => r.meterId))) refs.set(id, await this.#ref(id));
    const outcomes = await this.queue.enqueueAll(readings.map((r) => this.#prepare(refs.get(r.meterId)!, r)));
    const spooled = outcomes.filter((o) => o === 'spooled').length;
    return { stored: outcomes.length - spooled, spooled };
  }

  /** The newest values of a meter, from memory. */
  latest(meterKey: string, family: Family): LatestValues | undefined {
    const ref = this.#refs.get(meterKey);
    const entry = ref === undefined ? undefined : this.#latest.get(ref)?.[family];
    if (!entry) return undefined;
    entry.view ??= Object.freeze({ ts: entry.ts, values: Object.freeze(pick(entry.values, entry.ids)) });
    return entry.view;
  }

  /** Writes pending readings and brings rollups up to date, in the writer's turn. */
  async refresh(): Promise<void> {
    await this.queue.flush();
    await this.queue.serial(() => runRollups(this.store));
  }

  async history(meterKey: string, req: Omit<HistoryRequest, 'meterRef'>): Promise<HistoryResult> {
    const ref = await this.#ref(meterKey);
    if (req.resolution !== 'raw') await this.queue.serial(() => runRollups(this.store));
    return queryHistory(this.store, this.codes, { ...req, meterRef: ref });
  }

  /** History in pages, oldest first (exports); rollups are brought up to date first. */
  async *pages(meterKey: string, req: Omit<PagesRequest, 'meterRef'>): AsyncGenerator<HistoryPage> {
    const ref = await this.#ref(meterKey);
    if (req.resolution !== 'raw') await this.queue.serial(() => runRollups(this.store));
    yield* queryPages(this.store, this.codes, { ...req, meterRef: ref });
  }

  async consumption(meterKey: string, req: { period: Period; tz: string; from: number; to: number; measurements?: readonly string[] }): Promise<ConsumptionPeriod[]> {
    const ref = await this.#ref(meterKey);
    await this.queue.serial(() => runRollups(this.store));
    return queryConsumption(this.store, this.codes, { ...req, meterRef: ref });
  }

  async #ref(meterKey: string): Promise<number> {
    const ref = await this.refOf(meterKey);
    if (ref === undefined) throw new MeterhubError('METERHUB_ERR_HTTP_NOT_FOUND', `no meter "${meterKey}"`);
    return ref;
  }

  async ping(): Promise<boolean> {
    try {
      await this.knex.raw('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  /** Runs retention now (the periodic job calls this too). */
  retention(now = Date.now()): Promise<Record<string, number>> {
    return this.queue.serial(() => enforceRetention(this.store, this.settings.retention, now));
  }

  /** Starts the periodic rollup and retention jobs. */
  startJobs(): void {
    const guard = (what: string, fn: () => Promise<unknown>) => () => {
      fn().catch((err: unknown) => this.log.warn({ err: describeError(err) }, `${what} failed; retrying later`));
    };
    const rollups = setInterval(guard('rollups', () => this.queue.serial(() => runRollups(this.store))), this.settings.rollupIntervalMs);
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
    if (opts.rollUp !== false) await this.queue.serial(() => runRollups(this.store)).catch(() => undefined);
    await this.store.close();
    this.spool.close();
    await this.knex.destroy();
  }
}
