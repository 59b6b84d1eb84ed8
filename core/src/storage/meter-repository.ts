import type { Knex } from 'knex';
import objection from 'objection';
import type { MeterConfig } from '../config/host-config.js';

const { Model } = objection;

/** Row of the `meters` table. Objection stays inside this file: callers see plain objects. */
class MeterModel extends Model {
  static override tableName = 'meters';
  static override idColumn = 'ref';
  ref!: number;
  key!: string;
  name!: string | null;
  driver!: string;
  bus!: string;
  unit_id!: number;
  enabled!: boolean | number;
  settings!: string;
  source!: 'config' | 'api';
  created_at!: number;
  updated_at!: number;
}

export interface StoredMeter {
  ref: number;
  key: string;
  source: 'config' | 'api';
  config: MeterConfig;
}

function toStored(m: MeterModel): StoredMeter {
  const settings = JSON.parse(m.settings) as Partial<MeterConfig>;
  return {
    ref: m.ref,
    key: m.key,
    source: m.source,
    config: {
      ...settings,
      id: m.key,
      ...(m.name ? { name: m.name } : {}),
      // A pushed meter is stored with an empty bus (and driver when it has none), unit 0: the columns predate pushed meters.
      ...(m.driver ? { driver: m.driver } : {}),
      ...(m.bus ? { bus: m.bus, unitId: m.unit_id } : {}),
      enabled: Boolean(m.enabled),
      intervals: settings.intervals ?? { instantMs: 1000, counterMs: 60000 },
      requestMode: settings.requestMode ?? 'coalesce',
    },
  };
}

type MeterRow = Pick<MeterModel, 'name' | 'driver' | 'bus' | 'unit_id' | 'enabled' | 'settings'>;

function toRow(c: MeterConfig): MeterRow {
  const { id: _id, name, driver, bus, unitId, enabled, ...settings } = c;
  return { name: name ?? null, driver: driver ?? '', bus: bus ?? '', unit_id: bus ? unitId ?? 0 : 0, enabled, settings: JSON.stringify(settings) };
}

/**
 * Meters in the database, the source of truth once the REST API manages them.
 * Readings reference a meter by its integer `ref`; the stable `key` is the id
 * people and configs use.
 */
export class MeterRepository {
  readonly #model: typeof MeterModel;

  constructor(knex: Knex) {
    this.#model = MeterModel.bindKnex(knex);
  }

  async list(): Promise<StoredMeter[]> {
    return (await this.#model.query().orderBy('ref')).map(toStored);
  }

  async byKey(key: string): Promise<StoredMeter | undefined> {
    const m = await this.#model.query().findOne({ key });
    return m ? toStored(m) : undefined;
  }

  async insert(c: MeterConfig, source: 'config' | 'api', now = Date.now()): Promise<StoredMeter> {
    return toStored(await this.#model.query().insertAndFetch({ ...toRow(c), key: c.id, source, created_at: now, updated_at: now }));
  }

  async replace(ref: number, c: MeterConfig, now = Date.now()): Promise<StoredMeter> {
    return toStored(await this.#model.query().patchAndFetchById(ref, { ...toRow(c), updated_at: now }));
  }

  /** Config meters no longer in the file stop being polled; their history stays. */
  async disableMissingConfigMeters(keys: readonly string[]): Promise<string[]> {
    const gone = (await this.#model.query().where({ source: 'config', enabled: true })).filter((m) => !keys.includes(m.key));
    for (const m of gone) await this.#model.query().patchAndFetchById(m.ref, { enabled: false, updated_at: Date.now() });
    return gone.map((m) => m.key);
  }

  /**
   * Upserts the meters declared in the config file by their stable key (their
   * history stays attached across restarts); they stay managed by the file.
   */
  async upsertFromConfig(meters: readonly MeterConfig[], now = Date.now()): Promise<StoredMeter[]> {
    const out: StoredMeter[] = [];
    for (const c of meters) {
      const existing = await this.#model.query().findOne({ key: c.id });
      const row = { ...toRow(c), source: 'config' as const, updated_at: now };
      const m = existing
        ? await this.#model.query().patchAndFetchById(existing.ref, row)
        : await this.#model.query().insertAndFetch({ ...row, key: c.id, created_at: now });
      out.push(toStored(m));
    }
    return out;
  }
}
