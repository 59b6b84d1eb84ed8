import type { Knex } from 'knex';
import type { TariffConfig } from '../tariffs/tariff-schema.js';

/** The `meter_key` of the default assignment: meter ids start with a letter or digit. */
const DEFAULT_KEY = '*';

export interface StoredAssignments {
  default?: string;
  meters: Record<string, string>;
}

/**
 * Tariffs made over the REST API and the assignments made there, in the
 * database so they survive restarts. A tariff is stored whole, as the JSON
 * the config schema validated; those of the config file are never stored.
 */
export class TariffRepository {
  constructor(private readonly knex: Knex) {}

  async list(): Promise<TariffConfig[]> {
    const rows = await this.knex('tariffs').select('definition').orderBy('created_at').orderBy('id') as Array<{ definition: string }>;
    return rows.map((r) => JSON.parse(r.definition) as TariffConfig);
  }

  async get(id: string): Promise<TariffConfig | undefined> {
    const row = await this.knex('tariffs').where({ id }).first('definition') as { definition: string } | undefined;
    return row ? (JSON.parse(row.definition) as TariffConfig) : undefined;
  }

  /** Inserts a tariff; false when one with its id exists. */
  async insert(t: TariffConfig, now = Date.now()): Promise<boolean> {
    const inserted = await this.knex('tariffs').insert({ id: t.id, definition: JSON.stringify(t), created_at: now, updated_at: now }).onConflict('id').ignore().returning('id');
    return inserted.length === 1;
  }

  /** Replaces a stored tariff; false when there is none with its id. */
  async replace(t: TariffConfig, now = Date.now()): Promise<boolean> {
    return (await this.knex('tariffs').where({ id: t.id }).update({ definition: JSON.stringify(t), updated_at: now })) === 1;
  }

  async remove(id: string): Promise<boolean> {
    return (await this.knex('tariffs').where({ id }).delete()) === 1;
  }

  async assignments(): Promise<StoredAssignments> {
    const rows = await this.knex('tariff_assignments').select('meter_key', 'tariff_id') as Array<{ meter_key: string; tariff_id: string }>;
    const out: StoredAssignments = { meters: {} };
    for (const r of rows) {
      if (r.meter_key === DEFAULT_KEY) out.default = r.tariff_id;
      else out.meters[r.meter_key] = r.tariff_id;
    }
    return out;
  }

  /** Sets (or with null removes) the tariff of a meter, or of every meter without one of its own (`meter` undefined). */
  async assign(meter: string | undefined, tariffId: string | null): Promise<void> {
    const key = meter ?? DEFAULT_KEY;
    if (tariffId === null) await this.knex('tariff_assignments').where({ meter_key: key }).delete();
    else await this.knex('tariff_assignments').insert({ meter_key: key, tariff_id: tariffId }).onConflict('meter_key').merge();
  }
}
