import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { MEASUREMENTS, type MeasurementFamily } from '@meterhub/sdk';
import { RESOLUTIONS, type Resolution } from './reading-store.js';

/**
 * Readings readable with plain SQL on PostgreSQL (Grafana, psql): views in the
 * `meterhub` schema over the packed tables, with a column per vocabulary
 * measurement, so `SELECT ts, power, voltage_l1 FROM meterhub.power_readings
 * WHERE meter = 'house'` works. Storage keeps its packed rows (ingest speed,
 * bytes per value); the views decode them with the functions below, which
 * read the format of packed-values.ts (raw rows) and rollups.ts (rollup rows).
 *
 * The column list is generated from the SDK vocabulary, never written by hand,
 * and the views are rebuilt at start when the vocabulary changed (a release
 * added a measurement), so the columns cannot drift from the ids.
 */

export const SQL_SCHEMA = 'meterhub';

/** `voltageL1` → `voltage_l1`, `importEnergyT1` → `import_energy_t1`. */
export function snakeCase(id: string): string {
  return id.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** The float64 decode of 8 big-endian bytes at offset `o` of `d` into `v`, exact (mantissa < 2^53). */
const decodeFloat64 = (o: string) => `
        b0 := get_byte(d, ${o}); b1 := get_byte(d, ${o} + 1);
        e := ((b0 & 127) << 4) | (b1 >> 4);
        m := ((b1 & 15)::bigint << 48) | (get_byte(d, ${o} + 2)::bigint << 40) | (get_byte(d, ${o} + 3)::bigint << 32)
           | (get_byte(d, ${o} + 4)::bigint << 24) | (get_byte(d, ${o} + 5) << 16) | (get_byte(d, ${o} + 6) << 8) | get_byte(d, ${o} + 7);
        IF e = 2047 THEN v := CASE WHEN m = 0 THEN 'Infinity'::float8 ELSE 'NaN'::float8 END;
        ELSIF e = 0 THEN v := m * 2::float8 ^ (-1074);
        ELSE v := (4503599627370496 + m) * 2::float8 ^ (e - 1075);
        END IF;
        RETURN CASE WHEN b0 >= 128 THEN -v ELSE v END;`;

/**
 * The decode functions. `packed_value(data, code)` finds one measurement in a
 * raw row (16-bit code, top bit = float32, then the value big-endian);
 * `rollup_value(data, code, fields, field)` reads one float64 field of a rollup
 * entry (power: min, max, sum, count; energy: first, last, delta). Both return
 * NULL when the row lacks the measurement. IMMUTABLE and PARALLEL SAFE: the
 * planner may run them in parallel workers.
 */
export const DECODE_FUNCTIONS_SQL = [
  `CREATE SCHEMA IF NOT EXISTS ${SQL_SCHEMA}`,
  `CREATE OR REPLACE FUNCTION ${SQL_SCHEMA}.packed_value(d bytea, code integer) RETURNS double precision
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $fn$
    DECLARE n integer := length(d); o integer := 0; head integer; b0 integer; b1 integer; e integer; m bigint; v double precision;
    BEGIN
      WHILE o + 2 <= n LOOP
        head := (get_byte(d, o) << 8) | get_byte(d, o + 1);
        IF head >= 32768 THEN
          IF head - 32768 = code THEN
            b0 := get_byte(d, o + 2); b1 := get_byte(d, o + 3);
            e := ((b0 & 127) << 1) | (b1 >> 7);
            m := ((b1 & 127) << 16) | (get_byte(d, o + 4) << 8) | get_byte(d, o + 5);
            IF e = 255 THEN v := CASE WHEN m = 0 THEN 'Infinity'::float8 ELSE 'NaN'::float8 END;
            ELSIF e = 0 THEN v := m * 2::float8 ^ (-149);
            ELSE v := (8388608 + m) * 2::float8 ^ (e - 150);
            END IF;
            RETURN CASE WHEN b0 >= 128 THEN -v ELSE v END;
          END IF;
          o := o + 6;
        ELSE
          IF head = code THEN${decodeFloat64('o + 2')}
          END IF;
          o := o + 10;
        END IF;
      END LOOP;
      RETURN NULL;
    END $fn$`,
  `CREATE OR REPLACE FUNCTION ${SQL_SCHEMA}.rollup_value(d bytea, code integer, fields integer, field integer) RETURNS double precision
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $fn$
    DECLARE n integer := length(d); stride integer := 2 + 8 * fields; o integer := 0; p integer; b0 integer; b1 integer; e integer; m bigint; v double precision;
    BEGIN
      WHILE o + stride <= n LOOP
        IF ((get_byte(d, o) << 8) | get_byte(d, o + 1)) = code THEN
          p := o + 2 + 8 * field;${decodeFloat64('p')}
        END IF;
        o := o + stride;
      END LOOP;
      RETURN NULL;
    END $fn$`,
];

/** Rollup fields as stored (rollups.ts) and the columns they give per measurement. */
const ROLLUP_COLUMNS: Record<MeasurementFamily, { fields: number; columns: Array<[suffix: string, expr: (value: (field: number) => string) => string]> }> = {
  power: { fields: 4, columns: [['min', (f) => f(0)], ['avg', (f) => `${f(2)} / NULLIF(${f(3)}, 0)`], ['max', (f) => f(1)]] },
  energy: { fields: 3, columns: [['first', (f) => f(0)], ['last', (f) => f(1)], ['delta', (f) => f(2)]] },
};

const idsOf = (family: MeasurementFamily) => [...MEASUREMENTS.values()].filter((m) => m.family === family).map((m) => m.id);
/** The code of a measurement, looked up once per query (an InitPlan), NULL while the database has never stored it. */
const codeOf = (id: string) => `(SELECT code FROM measurement_codes WHERE measurement = '${id}')`;
/**
 * Epoch ms as timestamptz. Float division, not numeric (`/ 1000.0`): the time index on
 * this expression is computed on every insert. Exact: to_timestamp rounds to whole µs.
 * The index (migration 002) and the views must use the very same expression.
 */
export const timestampOf = (col: string) => `to_timestamp(${col}::double precision / 1000)`;
const tsOf = (col: string) => timestampOf(`r.${col}`);

/** `CREATE VIEW` statements of every readings and rollup view, from the vocabulary. */
export function readingViewsSql(): string[] {
  const out: string[] = [];
  for (const family of ['power', 'energy'] as const) {
    const cols = idsOf(family).map((id) => `${SQL_SCHEMA}.packed_value(r.data, ${codeOf(id)}) AS ${snakeCase(id)}`);
    out.push(`CREATE VIEW ${SQL_SCHEMA}.${family}_readings AS SELECT m.key AS meter, ${tsOf('ts')} AS ts, ${cols.join(', ')}
      FROM readings_${family} r JOIN meters m ON m.ref = r.meter_ref`);
    const spec = ROLLUP_COLUMNS[family];
    for (const resolution of Object.keys(RESOLUTIONS) as Resolution[]) {
      const rcols = idsOf(family).flatMap((id) => spec.columns.map(([suffix, expr]) =>
        `${expr((field) => `${SQL_SCHEMA}.rollup_value(r.data, ${codeOf(id)}, ${spec.fields}, ${field})`)} AS ${snakeCase(id)}_${suffix}`));
      out.push(`CREATE VIEW ${SQL_SCHEMA}.${family}_rollups_${resolution} AS SELECT m.key AS meter, ${tsOf('bucket')} AS ts, ${rcols.join(', ')}
        FROM rollups_${family} r JOIN meters m ON m.ref = r.meter_ref WHERE r.resolution = ${RESOLUTIONS[resolution].code}`);
    }
  }
  return out;
}

export const VIEW_NAMES: readonly string[] = (['power', 'energy'] as const).flatMap((f) => [`${f}_readings`, ...Object.keys(RESOLUTIONS).map((r) => `${f}_rollups_${r}`)]);

/** A fingerprint of the views' definition: when it changes, the views are rebuilt. */
function fingerprint(): string {
  return createHash('sha256').update(DECODE_FUNCTIONS_SQL.join(';')).update(readingViewsSql().join(';')).digest('hex').slice(0, 16);
}

/**
 * Creates or rebuilds the decode functions and views on PostgreSQL when their
 * definition changed (recorded as the schema's comment); a no-op on SQLite and
 * when nothing changed. Called by the migration that introduced them and at
 * every start, in one transaction so a reader never sees the views missing.
 */
export async function ensureReadingViews(knex: Knex): Promise<'created' | 'current' | 'not-postgres'> {
  if (knex.client.config.client === 'better-sqlite3') return 'not-postgres';
  const wanted = `meterhub views ${fingerprint()}`;
  const current = await knex.raw(`SELECT obj_description(oid, 'pg_namespace') AS c FROM pg_namespace WHERE nspname = ?`, [SQL_SCHEMA]) as { rows: Array<{ c: string | null }> };
  if (current.rows[0]?.c === wanted) return 'current';
  await knex.transaction(async (trx) => {
    // Two hosts starting at once on one database: the second waits, then finds the views current or rebuilds them again.
    await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [`${SQL_SCHEMA}.views`]);
    for (const sql of DECODE_FUNCTIONS_SQL) await trx.raw(sql);
    for (const name of VIEW_NAMES) await trx.raw(`DROP VIEW IF EXISTS ${SQL_SCHEMA}.${name}`);
    for (const sql of readingViewsSql()) await trx.raw(sql);
    await trx.raw(`COMMENT ON SCHEMA ${SQL_SCHEMA} IS '${wanted}'`);
  });
  return 'created';
}
