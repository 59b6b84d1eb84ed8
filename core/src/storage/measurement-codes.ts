import type { Knex } from 'knex';

/**
 * Small integer codes for measurement ids, assigned per database on first use
 * and never changed, so packed rows stay readable whatever the vocabulary's
 * order in a later release.
 */
export class MeasurementCodes {
  readonly #byId = new Map<string, number>();
  readonly #byCode = new Map<number, string>();

  constructor(private readonly knex: Knex) {}

  async load(): Promise<void> {
    const rows = await this.knex('measurement_codes').select('code', 'measurement') as Array<{ code: number; measurement: string }>;
    for (const r of rows) this.#set(r.measurement, r.code);
  }

  #set(id: string, code: number): void {
    this.#byId.set(id, code);
    this.#byCode.set(code, id);
  }

  code(id: string): number | undefined {
    return this.#byId.get(id);
  }

  id(code: number): string | undefined {
    return this.#byCode.get(code);
  }

  /** Assigns codes to ids that have none yet (rare: the first reading of a measurement). */
  async ensure(ids: Iterable<string>): Promise<void> {
    const missing = [...new Set(ids)].filter((id) => !this.#byId.has(id));
    if (missing.length === 0) return;
    await this.knex.transaction(async (trx) => {
      const row = await trx('measurement_codes').max('code as max').first() as { max: number | null } | undefined;
      let next = (row?.max ?? 0) + 1;
      for (const id of missing) {
        const existing = await trx('measurement_codes').where({ measurement: id }).first() as { code: number } | undefined;
        if (existing) this.#set(id, existing.code);
        else {
          await trx('measurement_codes').insert({ code: next, measurement: id });
          this.#set(id, next++);
        }
      }
    });
  }
}
