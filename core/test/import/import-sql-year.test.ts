import { expect } from 'chai';
import pg from 'pg';
import { createDjangoTables, type DjangoFixture } from '../../../test-support/django-tables.js';
import { createTestDatabase, type TestDatabase } from '../../../test-support/postgres.js';
import { runCli } from '../../../test-support/run-cli.js';
import { expectCounts, expectedFrom, ImportTarget, pgUrl, restHistory, type Expected } from './import-rig.js';

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const TZ = 'Europe/Berlin';
/** Europe's two DST changes inside the year from 2026-03-28: 23- and 25-hour local days. */
const SPRING = { day: '2026-03-29', hours: 23 };
const AUTUMN = { day: '2026-10-25', hours: 25 };

/** [from, to) windows of the year the REST history is compared on, value by value. */
async function sampleWindows(c: pg.Client, f: DjangoFixture): Promise<Array<[number, number]>> {
  // The first two days: meter 2's power and energy gaps, the duplicated rows, the rows of NULLs, the spring DST change.
  const windows: Array<[number, number]> = [[f.from, f.from + 2 * DAY]];
  // Every month from April 2026 to March 2027 (March 2026 is in the first window): two hours of the 15th.
  for (let m = 1; m <= 12; m++) windows.push([Date.UTC(2026, 2 + m, 15, 11), Date.UTC(2026, 2 + m, 15, 13)]);
  // The autumn change, the hours around 01:00 UTC.
  windows.push([Date.parse('2026-10-24T22:00:00Z'), Date.parse('2026-10-25T04:00:00Z')]);
  // Rows whose power is NULL all through the year (every 1009th row): ten minutes around a few of them.
  const nulls = await c.query<{ t: Date }>(`SELECT "timestamp" AS t FROM meters_powerreading WHERE power IS NULL AND id % 1009 = 0 AND id % 97 = 0 ORDER BY id`);
  for (const r of nulls.rows) windows.push([r.t.getTime() - 5 * MIN, r.t.getTime() + 5 * MIN]);
  return windows;
}

/** Read, stored, skipped per meter, counted in SQL over the whole year. */
async function yearCounts(c: pg.Client): Promise<Expected['counts']> {
  const counts: Expected['counts'] = {};
  for (const [table, all] of [['meters_powerreading', 'voltage, current, power, frequency, power_factor'], ['meters_energyreading', 'energy, import_energy']] as const) {
    const empty = all.split(', ').map((col) => `${col} IS NULL`).join(' AND ');
    const rows = await c.query<{ m: string; n: string; dup: string; empty: string }>(
      `SELECT meter_id::text AS m, count(*) AS n, count(*) - count(DISTINCT "timestamp") AS dup, count(*) FILTER (WHERE ${empty}) AS empty FROM ${table} GROUP BY meter_id`);
    for (const r of rows.rows) {
      const cnt = (counts[r.m] ??= { read: 0, stored: 0, duplicates: 0, empty: 0 });
      cnt.read += Number(r.n);
      cnt.duplicates += Number(r.dup);
      cnt.empty += Number(r.empty);
      cnt.stored = cnt.read - cnt.duplicates - cnt.empty;
    }
  }
  return counts;
}

describe('meterhub import sql: a year of the old tables, rolled up', function () {
  this.timeout(600_000);
  let source: TestDatabase;
  let target: ImportTarget;
  let fixture: DjangoFixture;

  before(async () => {
    source = await createTestDatabase('import_year');
    target = await ImportTarget.create('import_year_dst');
    // 3 meters × 525,600 minutes in each of the two tables, made with generate_series in the database.
    fixture = await createDjangoTables(source.connection, { minutes: 365 * 1440, meters: 3 });
  });
  after(async () => {
    await source?.drop();
    await target?.drop();
  });

  it('imports 3 meters × a year of 1-minute readings, rolls them up, and the REST history matches the source in every month, across both DST changes, the gaps, duplicates and NULLs', async () => {
    const c = new pg.Client(source.connection);
    await c.connect();
    let windows: Array<[number, number]>;
    let expected: Expected;
    try {
      windows = await sampleWindows(c, fixture);
      const where = windows.map(([a, b]) => `("timestamp" >= '${new Date(a).toISOString()}' AND "timestamp" < '${new Date(b).toISOString()}')`).join(' OR ');
      expected = { history: (await expectedFrom(source.connection, where)).history, counts: await yearCounts(c) };
    } finally {
      await c.end();
    }
    const r = await runCli(['import', 'sql', '--from', pgUrl(source)], target.dir.root);
    expect(r.code, r.stderr).to.equal(0);
    expectCounts(r.stdout, expected);
    expect(expected.counts['1']).to.include({ duplicates: 5, empty: 3 });
    expect(expected.counts['3']!.stored).to.be.greaterThan(2 * 525_000);
    // The import rolled its minutes up: every meter-minute, none left for the host's job.
    const rolled = /^rolled up ([\d,]+) meter-minutes/m.exec(r.stdout);
    expect(Number(rolled?.[1]!.replace(/,/g, ''))).to.be.at.least(3 * 525_600);
    expect(await target.query('SELECT * FROM rollup_dirty LIMIT 1')).to.deep.equal([]);

    const rig = await target.restHost();
    try {
      const { access } = await rig.login();
      let compared = 0;
      for (const [meter, families] of expected.history) {
        for (const family of ['power', 'energy'] as const) {
          const want = families[family];
          for (const [from, to] of windows) {
            const got = await restHistory(rig, access, meter, family, from, to);
            const inWindow = [...want].filter(([ts]) => ts >= from && ts < to);
            expect(got.size, `${meter} ${family} ${new Date(from).toISOString()} points`).to.equal(inWindow.length);
            for (const [ts, values] of inWindow) expect(got.get(ts), `${meter} ${family} ${new Date(ts).toISOString()}`).to.deep.equal(values);
            compared += inWindow.length;
          }
        }
      }
      expect(compared).to.be.greaterThan(25_000);

      // Day rollups over the whole year: 365 UTC days per meter.
      const get = async (path: string) => {
        const res = await rig.request('GET', path, { token: access });
        expect(res.status, JSON.stringify(res.body)).to.equal(200);
        return res.body.results as Array<{ timestamp: string; values: Record<string, number>; min?: Record<string, number>; max?: Record<string, number>; delta?: Record<string, number> }>;
      };
      const end = new Date(fixture.from + fixture.minutes * MIN).toISOString();
      for (const meter of ['1', '2', '3']) {
        expect(await get(`/api/meters/${meter}/power/history/?resolution=1d&from=${new Date(fixture.from).toISOString()}&to=${end}&limit=10000`), meter).to.have.length(365);
      }
      // Local days across the DST changes: meter 1's counter rises 0.125 kWh a minute, without gaps.
      for (const { day, hours } of [SPRING, AUTUMN]) {
        const [point] = await get(`/api/meters/1/energy/history/?resolution=1d&tz=${TZ}&from=${day}&to=${day}T23:59:59&limit=10`);
        expect(point!.delta, day).to.deep.equal({ totalEnergy: hours * 7.5, importEnergy: hours * 6 });
      }
      // An hour of each month: min and max are the raw extremes, the mean their mean (rows with a NULL power have none).
      for (const [from] of windows.slice(1, 13)) {
        const raw = [...expected.history.get('3')!.power].filter(([ts, v]) => ts >= from && ts < from + HOUR && v['power'] !== undefined).map(([, v]) => v['power']!);
        expect(raw.length).to.be.greaterThan(50);
        const [hour] = await get(`/api/meters/3/power/history/?resolution=1h&from=${new Date(from).toISOString()}&to=${new Date(from + HOUR).toISOString()}`);
        expect(hour!.min!['power']).to.equal(Math.min(...raw));
        expect(hour!.max!['power']).to.equal(Math.max(...raw));
        expect(hour!.values['power']).to.be.closeTo(raw.reduce((a, v) => a + v, 0) / raw.length, 1e-3);
      }
    } finally {
      await rig.stop();
    }
  });
});
