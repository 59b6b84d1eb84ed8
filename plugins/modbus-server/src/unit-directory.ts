import type { PluginLogger } from '@meterhub/sdk';
import type { HostSource } from './host-source.js';
import { UnitTable, type UnitTableOptions } from './unit-table.js';

/** How often the meter list is read again, for meters created, changed or removed over the API. */
const REFRESH_MS = 30_000;
/** The soonest a reading from an unknown meter or a request for an unknown unit reads the list again. */
const REFRESH_MIN_GAP_MS = 1000;

/**
 * Keeps the unit table in step with the meter registry: read at start, again
 * every 30 s, and sooner when something points at a meter or unit id it does
 * not know. Each problem (a meter left unserved, a `units` entry naming no
 * meter) is logged once.
 */
export class UnitDirectory {
  #table: UnitTable;
  #lastRefresh = Date.now();
  #refreshing = false;
  /** A refresh asked for while one ran or within the minimum gap: it runs as soon as allowed, never dropped. */
  #pending: NodeJS.Timeout | undefined;
  #again = false;
  #closed = false;
  readonly #warned = new Set<string>();

  private constructor(private readonly source: HostSource, private readonly options: UnitTableOptions, private readonly log: PluginLogger, table: UnitTable) {
    this.#table = table;
    this.#warnOnce();
  }

  static async open(source: HostSource, options: UnitTableOptions, log: PluginLogger): Promise<UnitDirectory> {
    return new UnitDirectory(source, options, log, new UnitTable(await source.meters(), (id) => source.driver(id), options));
  }

  get table(): UnitTable {
    return this.#table;
  }

  /**
   * Reads the list again: at once, or once the minimum gap since the last
   * read has passed. A meter created while a read is running is not missed:
   * the request is kept and served after it.
   */
  soon(): void {
    if (this.#closed || this.#pending) return;
    if (this.#refreshing) {
      this.#again = true;
      return;
    }
    const wait = REFRESH_MIN_GAP_MS - (Date.now() - this.#lastRefresh);
    if (wait <= 0) {
      void this.#refresh();
      return;
    }
    this.#pending = setTimeout(() => {
      this.#pending = undefined;
      this.soon();
    }, wait).unref();
  }

  /** Called every second: reads the list again when it is due. */
  tick(): void {
    if (Date.now() - this.#lastRefresh >= REFRESH_MS) void this.#refresh();
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#pending);
  }

  async #refresh(): Promise<void> {
    if (this.#refreshing || this.#closed) return;
    this.#refreshing = true;
    this.#lastRefresh = Date.now();
    try {
      this.#table = new UnitTable(await this.source.meters(), (id) => this.source.driver(id), this.options, this.#table);
      this.#warnOnce();
    } catch (err) {
      this.log.warn({ err: String(err) }, 'could not read the meter list; serving the previous one');
    } finally {
      this.#refreshing = false;
    }
    if (this.#again) {
      this.#again = false;
      this.soon();
    }
  }

  #warnOnce(): void {
    for (const u of this.#table.unserved) {
      const key = `${u.meter}: ${u.reason}`;
      if (!this.#warned.has(key)) this.log.warn({ meter: u.meter }, `meter "${u.meter}" is not served: ${u.reason}`);
      this.#warned.add(key);
    }
    for (const id of this.#table.unknownInMap) {
      if (!this.#warned.has(id)) this.log.warn({ meter: id }, `plugins.modbus-server.config.units names meter "${id}", which does not exist`);
      this.#warned.add(id);
    }
  }
}
