import { getMeasurement, MeterhubError, type MeasurementFamily, type Reading, type ReadingSource } from '@meterhub/sdk';
import type { Logger } from '../logging/logger.js';
import type { PreparedReading, StorageService } from '../storage/storage-service.js';
import { TimeSlice } from '../storage/time-slice.js';
import { LatestValuesStore } from './latest-values.js';

export type ReadingListener = (reading: Reading) => void;

type Split = Readonly<Record<MeasurementFamily, readonly string[]>>;

/** Splits values by family from the vocabulary: for a host without storage (CLI tools), where no layout exists. */
function splitByVocabulary(values: Record<string, number>): Split {
  const out: Record<MeasurementFamily, string[]> = { power: [], energy: [] };
  for (const id of Object.keys(values)) out[getMeasurement(id)?.family ?? 'power'].push(id);
  return out;
}

/**
 * The one path every reading takes, whatever its source: the acquisition's
 * polls (`publish`), REST submissions, a collector's uplink and plugins
 * (`submit`). In one pass per reading it resolves the meter, splits the values
 * into instantaneous values and counters (storage's layout), updates the one
 * latest-values store (an older reading does not move it back and is marked
 * `replay`), calls every subscriber (live stream, uplink, plugins, outlets) and
 * queues the reading for storage.
 */
export class ReadingPipeline {

  readonly #listeners = new Set<ReadingListener>();
  #storage: StorageService | undefined;
  #keepHistory = true;
  #published = 0;
  /** Meters warned about: readings published but not stored. */
  readonly #unstored = new Set<string>();
  #replays = 0;
  /** Called for every reading after the latest values took it (pushed meters' states follow arrivals). */
  onArrival: ((reading: Reading) => void) | undefined;

  constructor(
    private readonly log: Logger,
    /** The host's one store of newest values: REST `latest`, live snapshots, status and plugins read it. */
    readonly latest = new LatestValuesStore(),
  ) {}

  /** Readings are queued for `storage` from now on; with `keepHistory` false only the latest values are kept. */
  attach(storage: StorageService, keepHistory: boolean): void {
    this.#storage = storage;
    this.#keepHistory = keepHistory;
  }

  get published(): number {
    return this.#published;
  }

  get replays(): number {
    return this.#replays;
  }

  /**
   * Calls `listener` for every reading, synchronously and in subscription
   * order. Listeners that do slow work queue it themselves; plugin listeners
   * come wrapped so a throw is charged to their plugin.
   */
  subscribe(listener: ReadingListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /**
   * Takes a reading without waiting, for the polling scheduler (which must not
   * block) and streams. A reading of a meter the database does not know (an
   * embedder handing the acquisition meters of its own) is published but not
   * stored, with one warning per meter.
   */
  publish(reading: Reading, source: ReadingSource = 'poll'): void {
    const storage = this.#storage;
    const ref = storage?.cachedRef(reading.meterId);
    if (storage && ref === undefined && !this.#unstored.has(reading.meterId)) {
      this.#unstored.add(reading.meterId);
      this.log.warn({ meter: reading.meterId }, 'readings of a meter that is not in the database are published but not stored');
    }
    const item = this.#take(reading, source, ref);
    if (item && this.#keepHistory) storage!.offerPrepared(item);
  }

  /**
   * Takes readings and resolves once storage committed (or spooled) them.
   * Every meter is looked up first, once per batch: an unknown one rejects
   * with METERHUB_ERR_HTTP_NOT_FOUND before anything is taken. Long batches
   * are taken in slices, so the event loop keeps turning.
   */
  async submit(readings: Reading | readonly Reading[], source: ReadingSource): Promise<{ stored: number; spooled: number }> {
    const list: readonly Reading[] = Array.isArray(readings) ? readings : [readings as Reading];
    const storage = this.#storage;
    if (!storage) throw new MeterhubError('METERHUB_ERR_INTERNAL', 'readings are not accepted before storage is open');
    const refs = new Map<string, number>();
    for (const r of list) if (!refs.has(r.meterId)) refs.set(r.meterId, await storage.requireRef(r.meterId));
    const items: PreparedReading[] = [];
    const slice = new TimeSlice();
    for (const r of list) {
      if (slice.due) await slice.pause();
      items.push(this.#take(r, source, refs.get(r.meterId))!);
    }
    if (!this.#keepHistory) return { stored: 0, spooled: 0 };
    return storage.enqueuePrepared(items);
  }

  #take(reading: Reading, source: ReadingSource, ref: number | undefined): PreparedReading | undefined {
    const item = ref !== undefined ? this.#storage?.prepare(ref, reading) : undefined;
    const split: Split = item ? { power: item.layout.families.power.ids, energy: item.layout.families.energy.ids } : splitByVocabulary(reading.values);
    const fresh = this.latest.update(reading.meterId, reading.ts, reading.values, { power: split.power, energy: split.energy });
    const replay = reading.replay === true || !fresh;
    if (replay) this.#replays++;
    const out: Reading = { meterId: reading.meterId, ts: reading.ts, values: reading.values, source: reading.source ?? source, ...(replay ? { replay: true } : {}) };
    this.#published++;
    this.onArrival?.(out);
    for (const listener of [...this.#listeners]) {
      try {
        listener(out);
      } catch (err) {
        // Plugin listeners are guarded by the host API; this catches the host's own.
        this.log.warn({ err: String(err), meter: out.meterId }, 'a reading listener failed');
      }
    }
    return item;
  }
}
