import { MeterhubError } from '@meterhub/sdk';
import pg from 'pg';
import Cursor from 'pg-cursor';
import { formatMapping, mapColumns, type ColumnMapping } from './column-mapping.js';
import type { ImportBatch, ImportRow, ImportSource } from './import-job.js';
import type { ImportedMeter } from './reading-sink.js';

/** Where the old Django system kept its readings; `meterhub import sql --from URL` alone reads these. */
export const DJANGO_DEFAULTS = {
  tables: ['meters_powerreading', 'meters_energyreading'],
  metersTable: 'meters_meter',
  meterColumn: 'meter_id',
  timeColumn: 'timestamp',
} as const;

export interface SqlSourceOptions {
  url: string;
  tables?: readonly string[];
  metersTable?: string;
  meterColumn?: string;
  timeColumn?: string;
  /** Zone of a `timestamp without time zone` column (Django with USE_TZ=False stores local time). */
  tz?: string;
  /** Rows per cursor read. */
  pageSize?: number;
  /** Driver of every meter (`--driver`), for the phase reading of old fields (`voltage` on a three-phase meter). */
  driver?: PhaseDriver;
  /** Loaded drivers: a meters table's model column (`SDM630`) picks each meter's driver when `driver` is not given. */
  drivers?: { get(id: string): PhaseDriver | undefined; list(): Iterable<{ id: string }> };
  /** Column names → measurement ids, before the built-in table (`--column-map`). */
  columnMap?: ReadonlyMap<string, string>;
}

type PhaseDriver = { id: string; resolve(name: string): unknown };

/** Any three-phase driver reads the old fields the same way: only `voltageL3` is asked. */
const THREE_PHASE = { resolve: (name: string) => (name === 'voltageL3' ? {} : undefined) };

interface TablePlan {
  table: string;
  mapping: ColumnMapping;
  /** Measurement per mapped column on a three-phase meter (the mapping's own ids are single-phase). */
  threePhaseIds: string[];
  /** The time column's type as PostgreSQL names it, for casting the checkpoint back. */
  timeType: string;
  hasId: boolean;
}

const q = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** The URL without its password: the checkpoint's identity and what is printed. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/:[^:@/]*@/, ':***@');
  }
}

/**
 * Readings tables of a PostgreSQL (or TimescaleDB) database, read through a
 * server-side cursor a page at a time, oldest first, one table after the other.
 * A row is a meter key, a time and one column per quantity; columns are mapped
 * by the old API's field names. The position is the last time committed per
 * table: a resumed run asks for rows after it.
 */
export class SqlSource implements ImportSource {
  readonly id: string;
  readonly #client: pg.Client;
  readonly #opts: Required<Omit<SqlSourceOptions, 'driver' | 'drivers' | 'columnMap'>> & Pick<SqlSourceOptions, 'driver' | 'drivers' | 'columnMap'>;
  #plans: TablePlan[] = [];
  readonly #meters = new Map<string, ImportedMeter>();

  private constructor(opts: SqlSourceOptions) {
    this.#opts = {
      tables: opts.tables?.length ? opts.tables : DJANGO_DEFAULTS.tables,
      metersTable: opts.metersTable ?? DJANGO_DEFAULTS.metersTable,
      meterColumn: opts.meterColumn ?? DJANGO_DEFAULTS.meterColumn,
      timeColumn: opts.timeColumn ?? DJANGO_DEFAULTS.timeColumn,
      tz: opts.tz ?? 'UTC',
      pageSize: opts.pageSize ?? 5000,
      url: opts.url,
      ...(opts.driver ? { driver: opts.driver } : {}),
      ...(opts.drivers ? { drivers: opts.drivers } : {}),
      ...(opts.columnMap ? { columnMap: opts.columnMap } : {}),
    };
    this.id = `sql ${redactUrl(opts.url)} ${this.#opts.tables.join(',')}`;
    this.#client = new pg.Client({ connectionString: opts.url });
  }

  static async open(opts: SqlSourceOptions): Promise<SqlSource> {
    const source = new SqlSource(opts);
    try {
      await source.#client.connect();
    } catch (err) {
      throw new MeterhubError('METERHUB_ERR_DATABASE_UNREACHABLE', `cannot read ${redactUrl(opts.url)}: ${(err as Error).message}`);
    }
    try {
      // Times are printed and compared as text in the checkpoint: one zone for the session keeps that exact.
      await source.#client.query(`SET TIME ZONE 'UTC'`);
      await source.#plan();
      await source.#loadMeters();
    } catch (err) {
      await source.close();
      throw err;
    }
    return source;
  }

  async #columns(table: string): Promise<{ name: string; type: string }[]> {
    const r = await this.#client.query<{ column_name: string; data_type: string }>(
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_name = $1 AND table_schema = ANY (current_schemas(false)) ORDER BY ordinal_position`, [table]);
    return r.rows.map((c) => ({ name: c.column_name, type: c.data_type }));
  }

  async #plan(): Promise<void> {
    const o = this.#opts;
    for (const table of o.tables) {
      const columns = await this.#columns(table);
      const problems = [];
      if (columns.length === 0) problems.push({ path: '--table', message: `no table "${table}" in the database` });
      const time = columns.find((c) => c.name === o.timeColumn);
      if (columns.length && !time) problems.push({ path: '--time-column', message: `table "${table}" has no column "${o.timeColumn}"`, hint: `columns: ${columns.map((c) => c.name).join(', ')}` });
      if (columns.length && !columns.some((c) => c.name === o.meterColumn)) problems.push({ path: '--meter-column', message: `table "${table}" has no column "${o.meterColumn}"`, hint: `columns: ${columns.map((c) => c.name).join(', ')}` });
      if (problems.length) throw new MeterhubError('METERHUB_ERR_VALIDATION', `cannot import from table "${table}"`, { details: problems });
      const numeric = columns.filter((c) => /int|numeric|real|double|decimal/.test(c.type)).map((c) => c.name);
      const other = columns.filter((c) => !numeric.includes(c.name)).map((c) => c.name);
      const structural = ['id', o.meterColumn, o.timeColumn];
      const mapping = mapColumns(columns.map((c) => c.name), o.driver, structural, o.columnMap);
      const three = new Map(mapColumns(columns.map((c) => c.name), o.driver ?? THREE_PHASE, structural, o.columnMap).mapped.map((m) => [m.column, m.measurement]));
      // A text column named like a quantity cannot hold readings: reported, not mapped.
      mapping.unmatched.push(...mapping.mapped.filter((m) => other.includes(m.column)).map((m) => ({ column: m.column, hint: 'not a number column' })));
      mapping.mapped = mapping.mapped.filter((m) => numeric.includes(m.column));
      const threePhaseIds = mapping.mapped.map((m) => three.get(m.column) ?? m.measurement);
      this.#plans.push({ table, mapping, threePhaseIds, timeType: time!.type, hasId: columns.some((c) => c.name === 'id') });
    }
  }

  /** Names (and models, when the table has a model column) of the old meters, from the meters table when there is one. */
  async #loadMeters(): Promise<void> {
    const columns = (await this.#columns(this.#opts.metersTable)).map((c) => c.name);
    if (!columns.includes('id')) return;
    const name = ['name', 'title', 'label'].find((c) => columns.includes(c));
    const model = ['model', 'meter_model', 'meter_type', 'type', 'driver'].find((c) => columns.includes(c));
    const r = await this.#client.query<{ id: string; name: string | null; model: string | null }>(
      `SELECT id::text AS id, ${name ? `${q(name)}::text` : 'NULL'} AS name, ${model ? `${q(model)}::text` : 'NULL'} AS model FROM ${q(this.#opts.metersTable)}`);
    for (const m of r.rows) {
      const driver = this.#opts.driver ?? this.#driverOfModel(m.model);
      this.#meters.set(m.id, { key: m.id, ...(m.name ? { name: m.name } : {}), ...(driver ? { driver: driver.id } : {}) });
      if (driver?.resolve('voltageL3')) this.#threePhase.add(m.id);
    }
  }

  readonly #threePhase = new Set<string>();

  /** `SDM630`, `Eastron SDM630-Modbus` → the loaded driver whose id the model names. */
  #driverOfModel(model: string | null): PhaseDriver | undefined {
    const drivers = this.#opts.drivers;
    if (!model || !drivers) return undefined;
    const folded = model.toLowerCase().replace(/[^a-z0-9-]/g, '');
    const ids = [...drivers.list()].map((d) => d.id).sort((a, b) => b.length - a.length);
    const id = ids.find((i) => folded === i) ?? ids.find((i) => folded.includes(i));
    return id ? drivers.get(id) : undefined;
  }

  describe(): string[] {
    const o = this.#opts;
    const lines = [`source: ${redactUrl(o.url)}  (meter column "${o.meterColumn}", time column "${o.timeColumn}"${this.#meters.size ? `, ${this.#meters.size} meter(s) named in "${o.metersTable}"` : ''})`];
    const models = [...this.#meters.values()].filter((m) => m.driver).map((m) => `${m.key}: ${m.driver}`);
    if (models.length) lines.push(`drivers: ${models.join(', ')}`);
    for (const p of this.#plans) {
      lines.push(...formatMapping(`table ${p.table}`, p.mapping));
      if (this.#threePhase.size && !o.driver) {
        p.mapping.mapped.forEach((m, i) => {
          if (p.threePhaseIds[i] !== m.measurement) lines.push(`  ${m.column} on three-phase meters (${[...this.#threePhase].join(', ')}) → ${p.threePhaseIds[i]}`);
        });
      }
    }
    return lines;
  }

  meter(key: string): ImportedMeter {
    return { ...(this.#meters.get(key) ?? { key }), ...(this.#opts.driver ? { driver: this.#opts.driver.id } : {}) };
  }

  #after(plan: TablePlan, position: Record<string, unknown>): { where: string; params: unknown[] } {
    const last = position[plan.table];
    if (last === undefined) return { where: '', params: [] };
    return { where: `WHERE ${q(this.#opts.timeColumn)} > CAST($1 AS ${plan.timeType})`, params: [last] };
  }

  async remaining(position: Record<string, unknown>): Promise<number> {
    let n = 0;
    for (const plan of this.#plans) {
      if (position[plan.table] === 'done') continue;
      const { where, params } = this.#after(plan, position);
      const r = await this.#client.query<{ n: string }>(`SELECT count(*) AS n FROM ${q(plan.table)} ${where}`, params);
      n += Number(r.rows[0]!.n);
    }
    return n;
  }

  async *batches(start: Record<string, unknown>): AsyncGenerator<ImportBatch> {
    const position = { ...start };
    const o = this.#opts;
    for (const plan of this.#plans) {
      if (position[plan.table] === 'done') continue;
      const { where, params } = this.#after(plan, position);
      const time = q(o.timeColumn);
      const epoch = plan.timeType.includes('without') ? `(${time} AT TIME ZONE ${pg.escapeLiteral(o.tz)})` : time;
      const cols = plan.mapping.mapped.map((m, i) => `${q(m.column)}::float8 AS c${i}`);
      const sql = `SELECT ${q(o.meterColumn)}::text AS m, (extract(epoch FROM ${epoch}) * 1000)::float8 AS t, ${time}::text AS tt${cols.length ? `, ${cols.join(', ')}` : ''}
        FROM ${q(plan.table)} ${where} ORDER BY ${time}, ${q(o.meterColumn)}${plan.hasId ? ', id' : ''}`;
      const cursor = this.#client.query(new Cursor(sql, params));
      const single = plan.mapping.mapped.map((m) => m.measurement);
      // Rows of the newest time of a page wait for the next page: a batch never splits one time.
      let carry: { row: ImportRow; tt: string }[] = [];
      try {
        for (;;) {
          const page = await cursor.read(o.pageSize);
          const rows = carry.concat(page.map((r: Record<string, unknown>) => {
            const values: Record<string, number> = {};
            const ids = this.#threePhase.has(String(r['m'])) ? plan.threePhaseIds : single;
            for (let i = 0; i < ids.length; i++) {
              const v = r[`c${i}`];
              if (typeof v === 'number' && Number.isFinite(v)) values[ids[i]!] = v;
            }
            const t = r['t'] as number | null;
            return { row: { meter: String(r['m']), ts: t === null ? undefined : Math.round(t), values }, tt: String(r['tt']) };
          }));
          const end = page.length < o.pageSize;
          let cut = rows.length;
          if (!end && rows.length) {
            const lastTime = rows[rows.length - 1]!.tt;
            while (cut > 0 && rows[cut - 1]!.tt === lastTime) cut--;
          }
          carry = rows.slice(cut);
          const out = rows.slice(0, cut);
          if (out.length) position[plan.table] = out[out.length - 1]!.tt;
          if (end) position[plan.table] = 'done';
          if (out.length || end) yield { rows: out.map((r) => r.row), position: { ...position }, label: plan.table };
          if (end) break;
        }
      } finally {
        await cursor.close();
      }
    }
  }

  async close(): Promise<void> {
    await this.#client.end().catch(() => undefined);
  }
}
