import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { MEASUREMENTS } from '@meterhub/sdk';
import { packValues, unpackValues } from '../../src/storage/packed-values.js';
import { ensureReadingViews, snakeCase, SQL_SCHEMA } from '../../src/storage/sql-views.js';
import type { StorageService } from '../../src/storage/storage-service.js';
import { enableTimescale } from '../../src/storage/timescale.js';
import { meterConfig, StorageHarness } from './storage-harness.js';

const MIN = 60_000;

describe('readings readable with SQL on PostgreSQL', function () {
  this.timeout(60000);
  let h: StorageHarness;
  let s: StorageService;
  const sql = async <T = Record<string, unknown>>(text: string, bindings: unknown[] = []) =>
    ((await s.knex.raw(text, bindings as never)) as { rows: T[] }).rows;

  before(async () => {
    h = await StorageHarness.create('postgres', 'sqlviews');
    s = await h.open();
    await s.syncConfigMeters([meterConfig('house'), meterConfig('garage')]);
  });
  after(async () => {
    await s.close();
    await h.dispose();
  });

  it('names columns in snake_case of the vocabulary ids, one per measurement of the family', async () => {
    expect(snakeCase('voltageL1')).to.equal('voltage_l1');
    expect(snakeCase('importEnergyT1')).to.equal('import_energy_t1');
    expect(snakeCase('currentDemandMaxL1T1')).to.equal('current_demand_max_l1_t1');
    const columns = async (view: string) => (await sql<{ column_name: string }>(
      'SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position', [SQL_SCHEMA, view])).map((r) => r.column_name);
    const ids = (family: string) => [...MEASUREMENTS.values()].filter((m) => m.family === family).map((m) => snakeCase(m.id));
    expect(await columns('power_readings')).to.deep.equal(['meter', 'ts', ...ids('power')]);
    expect(await columns('energy_readings')).to.deep.equal(['meter', 'ts', ...ids('energy')]);
    expect(await columns('power_rollups_1h')).to.deep.equal(['meter', 'ts', ...ids('power').flatMap((c) => [`${c}_min`, `${c}_avg`, `${c}_max`])]);
    expect(await columns('energy_rollups_1d')).to.deep.equal(['meter', 'ts', ...ids('energy').flatMap((c) => [`${c}_first`, `${c}_last`, `${c}_delta`])]);
  });

  it('answers the plain query of the issue for readings stored through the ingest path, exactly', async () => {
    const now = Date.now() - (Date.now() % 1000);
    for (let i = 0; i < 5; i++) {
      s.offer({ meterId: 'house', ts: now - (4 - i) * 1000, values: { power: 1000 + i, voltageL1: 230.5, powerFactor: 0.1 * i, importEnergy: 100 + i / 4 } });
    }
    // An old reading (out of the one-day window) and another meter's reading must not appear.
    s.offer({ meterId: 'house', ts: now - 2 * 86_400_000, values: { power: 1, voltageL1: 1 } });
    s.offer({ meterId: 'garage', ts: now, values: { power: 7 } });
    await s.refresh();
    const rows = await sql<{ ts: Date; power: number; voltage_l1: number; power_factor: number; current_l1: number | null }>(
      `SELECT ts, power, voltage_l1, power_factor, current_l1 FROM meterhub.power_readings WHERE meter = 'house' AND ts > now() - interval '1 day' ORDER BY ts`);
    expect(rows.map((r) => r.ts.getTime())).to.deep.equal([0, 1, 2, 3, 4].map((i) => now - (4 - i) * 1000));
    expect(rows.map((r) => r.power)).to.deep.equal([1000, 1001, 1002, 1003, 1004]);
    expect(rows.every((r) => r.voltage_l1 === 230.5 && r.current_l1 === null)).to.equal(true);
    // 0.1 * i is not a float32: stored as float64, decoded to the same double.
    expect(rows.map((r) => r.power_factor)).to.deep.equal([0, 0.1, 0.2, 0.30000000000000004, 0.4]);
    const energy = await sql<{ import_energy: number }>(`SELECT import_energy FROM meterhub.energy_readings WHERE meter = 'house' AND ts > now() - interval '1 day' ORDER BY ts`);
    expect(energy.map((r) => r.import_energy)).to.deep.equal([100, 100.25, 100.5, 100.75, 101]);
  });

  it('runs the SQL examples of docs/storage.md', async () => {
    const doc = readFileSync(new URL('../../../docs/storage.md', import.meta.url), 'utf8');
    const statements = [...doc.matchAll(/```sql\n([\s\S]*?)```/g)].flatMap((m) => m[1]!.split(';')).map((x) => x.trim()).filter(Boolean);
    expect(statements).to.have.length.greaterThan(3);
    for (const statement of statements) expect((await sql(statement)).length, statement).to.be.greaterThan(0);
  });

  it('decodes every value the packer writes (float32, float64, negative, tiny, huge) as JavaScript reads it', async () => {
    const values = [0, -0.5, 230.1, 1e-40, 1.5e-45, -3.4e38, 1e300, -2.2250738585072014e-308, 123456.789, Number.MAX_SAFE_INTEGER, -1e-7];
    const data = packValues(values.map((v, i) => [i + 1, v] as [number, number]));
    const decoded = await sql<{ v: number }>(`SELECT meterhub.packed_value(?, code) AS v FROM generate_series(1, ${values.length}) AS code ORDER BY code`, [data]);
    expect(decoded.map((r) => r.v)).to.deep.equal([...unpackValues(data).values()]);
    expect((await sql<{ v: number | null }>('SELECT meterhub.packed_value(?, 99) AS v', [data]))[0]!.v).to.equal(null);
  });

  it('serves minute, hour and day rollups with min/avg/max for instant values and first/last/delta for counters', async () => {
    const day = Date.UTC(2026, 2, 2);
    for (let i = 0; i < 6; i++) s.offer({ meterId: 'garage', ts: day + i * 30_000, values: { power: 100 * (i + 1), importEnergy: 10 + i } });
    await s.refresh();
    const minutes = await sql<{ ts: Date; power_min: number; power_avg: number; power_max: number }>(
      `SELECT ts, power_min, power_avg, power_max FROM meterhub.power_rollups_1m WHERE meter = 'garage' AND ts >= to_timestamp(?) AND ts < to_timestamp(?) ORDER BY ts`, [day / 1000, (day + 3 * MIN) / 1000]);
    expect(minutes.map((r) => [r.ts.getTime(), r.power_min, r.power_avg, r.power_max])).to.deep.equal([
      [day, 100, 150, 200], [day + MIN, 300, 350, 400], [day + 2 * MIN, 500, 550, 600],
    ]);
    const hour = await sql(`SELECT power_min, power_avg, power_max FROM meterhub.power_rollups_1h WHERE meter = 'garage' AND ts = to_timestamp(?)`, [day / 1000]);
    expect(hour).to.deep.equal([{ power_min: 100, power_avg: 350, power_max: 600 }]);
    const energyDay = await sql(`SELECT import_energy_first, import_energy_last, import_energy_delta FROM meterhub.energy_rollups_1d WHERE meter = 'garage' AND ts = to_timestamp(?)`, [day / 1000]);
    expect(energyDay).to.deep.equal([{ import_energy_first: 10, import_energy_last: 15, import_energy_delta: 5 }]);
  });

  it('uses the time index of the views for a time range, not a scan of the meter\'s whole history', async () => {
    // The test table is tiny, so the planner would rightly scan it: forbid that to see that the index can serve the view.
    const plan = await s.knex.transaction(async (trx) => {
      await trx.raw('SET LOCAL enable_seqscan = off');
      return ((await trx.raw(`EXPLAIN SELECT ts, power FROM meterhub.power_readings WHERE ts > now() - interval '1 hour'`)) as { rows: Array<{ 'QUERY PLAN': string }> }).rows.map((r) => r['QUERY PLAN']).join('\n');
    });
    expect(plan).to.match(/readings_power_tstz_brin/);
  });

  it('rebuilds the views only when their definition changed', async () => {
    expect(await ensureReadingViews(s.knex)).to.equal('current');
    await s.knex.raw(`COMMENT ON SCHEMA ${SQL_SCHEMA} IS 'meterhub views of an older release'`);
    expect(await ensureReadingViews(s.knex)).to.equal('created');
    expect(await ensureReadingViews(s.knex)).to.equal('current');
    expect(await sql(`SELECT power FROM meterhub.power_readings WHERE meter = 'garage' AND ts = to_timestamp(?)`, [Date.UTC(2026, 2, 2) / 1000])).to.deep.equal([{ power: 100 }]);
  });

  it('keeps the previous views when a rebuild is refused (a user view depends on them)', async () => {
    await s.knex.raw(`CREATE VIEW public.my_power AS SELECT ts, power FROM ${SQL_SCHEMA}.power_readings`);
    try {
      await s.knex.raw(`COMMENT ON SCHEMA ${SQL_SCHEMA} IS 'meterhub views of an older release'`);
      let failure: Error | undefined;
      await ensureReadingViews(s.knex).catch((err: Error) => { failure = err; });
      expect(failure?.message).to.match(/depend/);
      expect(await sql(`SELECT power FROM public.my_power WHERE ts = to_timestamp(?)`, [Date.UTC(2026, 2, 2) / 1000])).to.deep.equal([{ power: 100 }]);
    } finally {
      await s.knex.raw('DROP VIEW public.my_power');
    }
    expect(await ensureReadingViews(s.knex)).to.equal('created');
  });

  it('lets a read-only role granted as examples/grafana says read the views, also after a rebuild, and not the tables', async () => {
    const role = `grafana_test_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
    await s.knex.raw(`CREATE ROLE ${role}`);
    try {
      for (const grant of [
        `GRANT USAGE ON SCHEMA ${SQL_SCHEMA} TO ${role}`, `GRANT SELECT ON ALL TABLES IN SCHEMA ${SQL_SCHEMA} TO ${role}`, `GRANT SELECT ON meters TO ${role}`,
        `ALTER DEFAULT PRIVILEGES FOR ROLE current_user IN SCHEMA ${SQL_SCHEMA} GRANT SELECT ON TABLES TO ${role}`,
      ]) await s.knex.raw(grant);
      await s.knex.raw(`COMMENT ON SCHEMA ${SQL_SCHEMA} IS 'meterhub views of an older release'`);
      expect(await ensureReadingViews(s.knex)).to.equal('created');
      const asRole = (text: string) => s.knex.transaction(async (trx) => {
        await trx.raw(`SET LOCAL ROLE ${role}`);
        return ((await trx.raw(text)) as { rows: unknown[] }).rows;
      });
      expect(await asRole(`SELECT power_max FROM ${SQL_SCHEMA}.power_rollups_1h WHERE meter = 'garage' AND ts = to_timestamp(${Date.UTC(2026, 2, 2) / 1000})`)).to.deep.equal([{ power_max: 600 }]);
      let denied: Error | undefined;
      await asRole('SELECT data FROM readings_power LIMIT 1').catch((err: Error) => { denied = err; });
      expect(denied?.message).to.match(/permission denied/);
    } finally {
      await s.knex.raw(`DROP OWNED BY ${role}`);
      await s.knex.raw(`DROP ROLE ${role}`);
    }
  });

  it('skips the TimescaleDB migration cleanly on a server without the extension: applied, plain tables, data readable', async () => {
    const applied = await sql<{ name: string }>('SELECT name FROM meterhub_migrations ORDER BY id');
    expect(applied.map((r) => r.name)).to.include.members(['001_initial', '002_sql_views', '003_timescale']);
    expect(await sql("SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'"), 'this test machine must not have TimescaleDB').to.deep.equal([]);
    expect(await enableTimescale(s.knex)).to.equal('unavailable');
    expect(await sql("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'")).to.deep.equal([]);
    const kinds = await sql<{ relname: string; relkind: string }>(`SELECT relname, relkind FROM pg_class WHERE relname IN ('readings_power', 'readings_energy', 'rollups_power', 'rollups_energy') ORDER BY relname`);
    expect(kinds.map((k) => k.relkind)).to.deep.equal(['r', 'r', 'r', 'r']);
  });
});

describe('SQLite keeps its compact layout with the SQL-view migrations', function () {
  this.timeout(30000);

  it('applies 002 and 003 as no-ops: no meterhub views, no extra index on the readings tables', async () => {
    const h = await StorageHarness.create('sqlite', 'sqlviews');
    const s = await h.open();
    try {
      const rows = await s.knex.raw("SELECT name FROM meterhub_migrations ORDER BY id") as Array<{ name: string }>;
      // Later migrations follow; these three are recorded in order.
      expect(rows.map((r) => r.name).slice(0, 3)).to.deep.equal(['001_initial', '002_sql_views', '003_timescale']);
      const objects = await s.knex.raw("SELECT type, name FROM sqlite_master WHERE tbl_name IN ('readings_power', 'readings_energy') ORDER BY name") as Array<{ type: string; name: string }>;
      expect(objects).to.deep.equal([{ type: 'table', name: 'readings_energy' }, { type: 'table', name: 'readings_power' }]);
      expect(await s.knex.raw("SELECT name FROM sqlite_master WHERE type = 'view'")).to.deep.equal([]);
    } finally {
      await s.close();
      await h.dispose();
    }
  });
});
