/**
 * Import benchmark: values per second from the old Django tables on
 * PostgreSQL into a host's PostgreSQL storage, beside the product's own direct
 * ingest path (`StorageService.ingestBatch` of the same readings, already in
 * memory, in batches of the same size) in the same run; each side writes into
 * a fresh database. The import is the real `meterhub import sql` in its own
 * process, writing into the database of a host that polls two simulated meters
 * over Modbus TCP in this process meanwhile: the host's event-loop delay during
 * the import is printed beside the same host's while only polling.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { MeterSimulator, SimulatorTcpEndpoint, type Reading } from '@meterhub/sdk';
import { Host } from '../core/src/host.js';
import { createLogger } from '../core/src/logging/logger.js';
import { builtinDriver } from '../test-support/builtin-drivers.js';
import { StorageService, type StorageSettings } from '../core/src/storage/storage-service.js';
import { createDjangoTables } from '../test-support/django-tables.js';
import { createTestDatabase, type TestDatabase } from '../test-support/postgres.js';
import { tempDataDir } from '../core/test/helpers/temp-data-dir.js';
import { report, type BenchContext } from './bench-report.js';
import { rollupRates } from './rollup-rates.js';

const PAGE = 5000;
const CLI = fileURLToPath(new URL('../packages/meterhub/bin/meterhub.js', import.meta.url));

/** Event-loop delay p99 and max (ms) of this process while `during` runs. */
async function loopDelay<T>(during: () => Promise<T>): Promise<{ p99: number; max: number; result: T }> {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  const result = await during();
  h.disable();
  return { p99: h.percentile(99) / 1e6, max: h.max / 1e6, result };
}

function runImportCli(cwd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { PATH: process.env['PATH'] } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`meterhub import exited ${code}: ${err}`))));
  });
}
const log = createLogger({ level: 'silent', pretty: false });

function settings(db: TestDatabase, dataDir: string): StorageSettings {
  return {
    target: { engine: 'postgres', connection: db.connection } as StorageSettings['target'], dataDir, spoolMaxRows: 1000, rollupIntervalMs: 3_600_000,
    retention: { rawDays: null, minuteDays: null, hourDays: null, dayDays: null },
    ingest: { maxBatch: 5000, maxDelayMs: 50, maxPending: 50_000 },
  };
}

const url = (db: TestDatabase) => `postgres://${db.connection.user}@${db.connection.host}:${db.connection.port}/${db.connection.database}`;

/** The readings the import stores, read straight from the source: the baseline's input. */
async function sourceReadings(db: TestDatabase): Promise<Reading[]> {
  const c = new pg.Client(db.connection);
  await c.connect();
  try {
    const power = await c.query(`SELECT meter_id::text AS m, "timestamp" AS t, voltage, current, power, frequency, power_factor FROM meters_powerreading ORDER BY "timestamp", meter_id`);
    const energy = await c.query(`SELECT meter_id::text AS m, "timestamp" AS t, energy, import_energy::float8 AS import_energy FROM meters_energyreading ORDER BY "timestamp", meter_id`);
    const out: Reading[] = [];
    for (const r of power.rows) out.push({ meterId: r.m, ts: (r.t as Date).getTime(), values: { voltageL1: r.voltage, currentL1: r.current, power: r.power, frequency: r.frequency, powerFactor: r.power_factor } });
    for (const r of energy.rows) out.push({ meterId: r.m, ts: (r.t as Date).getTime(), values: { totalEnergy: r.energy, importEnergy: r.import_energy } });
    return out;
  } finally {
    await c.end();
  }
}

/**
 * A year of 1-minute readings of three meters in the old tables (two days in
 * the smoke run), imported by the CLI, which then rolls the imported minutes
 * up by ranges: the time of both, beside what the rollups would take minute
 * by minute at the rate measured in this run.
 */
async function yearImport(ctx: BenchContext, root: string, minutesPerSecond: number, idle: { p99: number; max: number }): Promise<void> {
  const minutes = ctx.smoke ? 2 * 1440 : 365 * 1440;
  const source = await createTestDatabase('bench_year_src');
  const target = await createTestDatabase('bench_year_dst');
  try {
    const c0 = performance.now();
    await createDjangoTables(source.connection, { minutes, meters: 3, irregular: false });
    const created = (performance.now() - c0) / 1000;
    writeFileSync(join(root, 'meterhub.json'), JSON.stringify({ dataDir: './year-data', storage: { client: 'postgres', url: url(target) } }));
    const t0 = performance.now();
    const busy = await loopDelay(() => runImportCli(root, ['import', 'sql', '--from', url(source), '--page-size', String(PAGE)]));
    const out = busy.result;
    const total = (performance.now() - t0) / 1000;
    const imported = /^([\d,]+) values in ([\d.]+) s/m.exec(out);
    const rolled = /^rolled up ([\d,]+) meter-minutes in ([\d.]+) s/m.exec(out);
    if (!imported || !rolled) throw new Error(`no figures in the import's output:\n${out}`);
    const meterMinutes = Number(rolled[1]!.replace(/,/g, ''));
    const rollupSeconds = Number(rolled[2]);
    const estimate = meterMinutes / minutesPerSecond;
    console.log(`${(minutes * 3 * 2).toLocaleString('en')} rows in the old tables (3 meters × ${minutes / 1440} days, power and energy), created with generate_series in ${created.toFixed(1)} s`);
    report(ctx, `import of ${minutes / 1440} days × 3 meters with its rollups (meterhub import sql)`,
      `${total.toFixed(1)} s: ${Number(imported[1]!.replace(/,/g, '')).toLocaleString('en')} values in ${imported[2]} s, rollups of ${meterMinutes.toLocaleString('en')} meter-minutes by ranges in ${rollupSeconds.toFixed(1)} s`,
      `those rollups minute by minute at this run's rate: ${(estimate / 3600).toFixed(2)} h`,
      `${(estimate / rollupSeconds).toFixed(0)}× faster; rollups ${(rollupSeconds / Number(imported[2])).toFixed(2)}× the import's time (target <= 1×)`, rollupSeconds <= Number(imported[2]));
    report(ctx, 'host event-loop delay meanwhile (polling, its storage beside the import\'s database)', `p99 ${busy.p99.toFixed(1)} ms, max ${busy.max.toFixed(1)} ms`, `polling only: p99 ${idle.p99.toFixed(1)} ms, max ${idle.max.toFixed(1)} ms`, 'target p99 < 50 ms', busy.p99 < 50);
  } finally {
    await source.drop();
    await target.drop();
  }
}

export async function importBench(ctx: BenchContext): Promise<void> {
  const minutes = ctx.smoke ? 2 * 1440 : 14 * 1440;
  const source = await createTestDatabase('bench_import_src');
  const imported = await createTestDatabase('bench_import_a');
  const direct = await createTestDatabase('bench_import_b');
  const dir = tempDataDir();
  try {
    await createDjangoTables(source.connection, { minutes, irregular: false });

    // Baseline: the same readings through ingestBatch, in batches as large as the import's pages.
    const readings = await sourceReadings(source);
    const values = readings.reduce((a, r) => a + Object.keys(r.values).length, 0);
    const b = await StorageService.open(settings(direct, dir.dataDir), log);
    await b.meters.insert({ id: '1', driver: '', bus: '', unitId: 0, enabled: false, intervals: { instantMs: 1000, counterMs: 60000 }, requestMode: 'coalesce' }, 'api');
    await b.meters.insert({ id: '2', driver: '', bus: '', unitId: 0, enabled: false, intervals: { instantMs: 1000, counterMs: 60000 }, requestMode: 'coalesce' }, 'api');
    const t0 = performance.now();
    for (let i = 0; i < readings.length; i += PAGE) await b.ingestBatch(readings.slice(i, i + PAGE));
    const directRate = values / ((performance.now() - t0) / 1000);

    // The host: two simulated meters polled every second, storage in the database the import writes to.
    const sim = new MeterSimulator();
    sim.addUnit(1, builtinDriver('sdm630'));
    sim.addUnit(2, builtinDriver('sdm230'));
    const endpoint = new SimulatorTcpEndpoint(sim, { framing: 'mbap' });
    const port = await endpoint.listen();
    const host = new Host({
      config: {
        dataDir: dir.dataDir, http: { port: 0 }, storage: { client: 'postgres', connection: imported.connection },
        buses: [{ id: 'sim', transport: 'modbus-tcp', host: '127.0.0.1', port }],
        meters: [{ id: 'house', driver: 'sdm630', bus: 'sim', unitId: 1 }, { id: 'pump', driver: 'sdm230', bus: 'sim', unitId: 2 }],
      },
      cwd: dir.root, env: {}, logger: log,
    });
    await host.start();
    try {
      const idle = await loopDelay(() => new Promise((r) => setTimeout(r, ctx.smoke ? 2000 : 5000)));
      writeFileSync(join(dir.root, 'meterhub.json'), JSON.stringify({ dataDir: './cli-data', storage: { client: 'postgres', url: url(imported) } }));
      const busy = await loopDelay(() => runImportCli(dir.root, ['import', 'sql', '--from', url(source), '--page-size', String(PAGE)]));
      const m = /^([\d,]+) values in [\d.]+ s \(([\d,]+) values\/s\)/m.exec(busy.result);
      if (!m) throw new Error(`no rate in the import's output:\n${busy.result}`);
      const importValues = Number(m[1]!.replace(/,/g, ''));
      if (importValues !== values) throw new Error(`the import stored ${importValues} values, the source has ${values}`);
      const importRate = Number(m[2]!.replace(/,/g, ''));
      const ratio = importRate / directRate;
      console.log(`${readings.length.toLocaleString('en')} rows (2 meters × ${minutes / 1440} days of 1-minute power and energy readings), ${values.toLocaleString('en')} values`);
      report(ctx, 'import from PostgreSQL (meterhub import sql, own process)', `${Math.round(importRate).toLocaleString('en')} values/s`, `ingestBatch ${Math.round(directRate).toLocaleString('en')} values/s`, `${(ratio * 100).toFixed(0)}% (target >= 50%)`, ratio >= 0.5);
      report(ctx, 'host event-loop delay while the import writes into its database', `p99 ${busy.p99.toFixed(1)} ms, max ${busy.max.toFixed(1)} ms`, `polling only: p99 ${idle.p99.toFixed(1)} ms, max ${idle.max.toFixed(1)} ms`, 'target p99 < 50 ms', busy.p99 < 50);

      // Rollups of the same readings, in this process while the host polls (its loop delay is what the figure's p99 shows).
      const pgRates = await rollupRates(ctx, b, 'PostgreSQL');
      await b.close({ rollUp: false });
      const sqlite = await StorageService.open({ ...settings(direct, join(dir.root, 'sqlite-data')), target: { engine: 'sqlite', filename: join(dir.root, 'rollups.db') } }, log);
      try {
        await sqlite.meters.insert({ id: '1', driver: '', bus: '', unitId: 0, enabled: false, intervals: { instantMs: 1000, counterMs: 60000 }, requestMode: 'coalesce' }, 'api');
        await sqlite.meters.insert({ id: '2', driver: '', bus: '', unitId: 0, enabled: false, intervals: { instantMs: 1000, counterMs: 60000 }, requestMode: 'coalesce' }, 'api');
        for (let i = 0; i < readings.length; i += PAGE) await sqlite.ingestBatch(readings.slice(i, i + PAGE));
        await rollupRates(ctx, sqlite, 'SQLite');
      } finally {
        await sqlite.close({ rollUp: false });
      }
      await yearImport(ctx, dir.root, pgRates.minutesPerSecond, idle);
    } finally {
      // Rolling the imported minutes up is the rollup job's work, not measured here: the marks are dropped so stopping is quick.
      const c = new pg.Client(imported.connection);
      await c.connect();
      await c.query('DELETE FROM rollup_dirty');
      await c.end();
      await host.stop();
      await endpoint.close();
    }
  } finally {
    for (const db of [source, imported, direct]) await db.drop();
    dir.cleanup();
  }
}
