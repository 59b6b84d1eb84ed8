import pg from 'pg';

/** What the fixture put in the old tables, for exact expectations. */
export interface DjangoFixture {
  meters: Array<{ id: number; name: string; model: string }>;
  /** Start of the readings (epoch ms) and their count of minutes. */
  from: number;
  minutes: number;
}

export interface DjangoFixtureOptions {
  /** First reading (ISO); the default range crosses Europe's spring DST change (2026-03-29 01:00 UTC). */
  from?: string;
  minutes?: number;
  /** Meters 1 (SDM230), 2 (SDM630) and, with 3, a second SDM230. */
  meters?: 2 | 3;
  /** Seed the irregular rows too: gaps, duplicate rows, NULLs, a row of NULLs. */
  irregular?: boolean;
}

/**
 * Creates the old Django system's tables (`meters_meter`, `meters_powerreading`,
 * `meters_energyreading`, with Django's default names and types: serial ids, a
 * `meter_id` foreign key, `timestamp with time zone`, one column per quantity)
 * and fills them with 1-minute readings of two meters, generated in the
 * database; meter 1 is an SDM230, meter 2 an SDM630. With `irregular`: meter 2 has a six-hour gap in power and an eight-hour one in energy, five
 * rows are duplicated later with other values (the first row is the one that
 * counts), some rows have NULL power, three power rows are NULL throughout, and
 * two columns map to nothing (`temperature`, `reactivepower`).
 */
export async function createDjangoTables(connection: pg.ClientConfig, opts: DjangoFixtureOptions = {}): Promise<DjangoFixture> {
  const from = Date.parse(opts.from ?? '2026-03-28T00:00:00Z');
  const minutes = opts.minutes ?? 2 * 1440;
  const meters = [{ id: 1, name: 'House', model: 'SDM230' }, { id: 2, name: 'Heat pump', model: 'SDM630' }, { id: 3, name: 'Garage', model: 'SDM230' }].slice(0, opts.meters ?? 2);
  const c = new pg.Client(connection);
  await c.connect();
  try {
    await c.query(`
      CREATE TABLE meters_meter (id serial PRIMARY KEY, name varchar(100) NOT NULL, unit_id integer NOT NULL, model varchar(20) NOT NULL);
      CREATE TABLE meters_powerreading (
        id bigserial PRIMARY KEY, meter_id integer NOT NULL, "timestamp" timestamp with time zone NOT NULL,
        voltage double precision, current double precision, power double precision, frequency double precision, power_factor double precision,
        temperature double precision, reactivepower double precision);
      CREATE TABLE meters_energyreading (
        id bigserial PRIMARY KEY, meter_id integer NOT NULL, "timestamp" timestamp with time zone NOT NULL,
        energy double precision, import_energy numeric(14, 3));
      INSERT INTO meters_meter (name, unit_id, model) VALUES ${meters.map((m) => `('${m.name}', ${m.id}, '${m.model}')`).join(', ')};
    `);
    const t0 = new Date(from).toISOString();
    // Values are exact in binary where the meters' float32 would be, and varied enough to catch a shifted row.
    // Computed in float8 (numeric arithmetic is several times slower over a year of rows); the
    // foreign keys and time indexes are added once the rows are in, as a restore does.
    await c.query(`
      INSERT INTO meters_powerreading (meter_id, "timestamp", voltage, current, power, frequency, power_factor, temperature, reactivepower)
      SELECT m, $1::timestamptz + i * interval '1 minute', 225 + (i % 97) / 8e0, ((i * 13 + m) % 400) / 16e0, ((i * 7 + m * 31) % 5000) / 4e0,
             49.75e0 + (i % 21) / 40e0, (i % 100) / 100e0, 20 + (i % 9), (i % 50)
      FROM generate_series(1, $3) AS m, generate_series(0, $2 - 1) AS i;
      INSERT INTO meters_energyreading (meter_id, "timestamp", energy, import_energy)
      SELECT m, $1::timestamptz + i * interval '1 minute', 1000 * m + i * 0.125e0, (1000 * m + i * 0.1)::numeric(14, 3)
      FROM generate_series(1, $3) AS m, generate_series(0, $2 - 1) AS i;
      ALTER TABLE meters_powerreading ADD FOREIGN KEY (meter_id) REFERENCES meters_meter (id);
      ALTER TABLE meters_energyreading ADD FOREIGN KEY (meter_id) REFERENCES meters_meter (id);
      CREATE INDEX ON meters_powerreading ("timestamp");
      CREATE INDEX ON meters_energyreading ("timestamp");
    `.replace(/\$1/g, `'${t0}'`).replace(/\$2/g, String(minutes)).replace(/\$3/g, String(meters.length)));
    if (opts.irregular !== false) {
      await c.query(`
        DELETE FROM meters_powerreading WHERE meter_id = 2 AND "timestamp" >= $1::timestamptz + interval '10 hours' AND "timestamp" < $1::timestamptz + interval '16 hours';
        DELETE FROM meters_energyreading WHERE meter_id = 2 AND "timestamp" >= $1::timestamptz + interval '1 day' AND "timestamp" < $1::timestamptz + interval '1 day 8 hours';
        INSERT INTO meters_powerreading (meter_id, "timestamp", voltage, current, power, frequency, power_factor)
          SELECT meter_id, "timestamp", voltage + 1, current, power + 1000, frequency, power_factor FROM meters_powerreading WHERE meter_id = 1 AND id % 499 = 0 ORDER BY id LIMIT 5;
        UPDATE meters_powerreading SET power = NULL WHERE id % 1009 = 0;
        UPDATE meters_powerreading SET voltage = NULL, current = NULL, power = NULL, frequency = NULL, power_factor = NULL WHERE meter_id = 1 AND id IN (17, 18, 19);
      `.replace(/\$1/g, `'${t0}'`));
    }
    return { meters, from, minutes };
  } finally {
    await c.end();
  }
}
