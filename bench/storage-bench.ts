/**
 * Storage benchmark, per engine: ingest rate through the real ingest path
 * beside the fastest bare insert into the same table in the same run, bytes per
 * stored raw value, and history query latency.
 */
import Database from 'better-sqlite3';
import pg from 'pg';
import { createLogger } from '../core/src/logging/logger.js';
import { packValues } from '../core/src/storage/packed-values.js';
import { RESOLUTIONS } from '../core/src/storage/reading-store.js';
import { packAggregates } from '../core/src/storage/rollups.js';
import { StorageService, type StorageSettings } from '../core/src/storage/storage-service.js';
import { createTestDatabase } from '../test-support/postgres.js';
import { tempDataDir } from '../core/test/helpers/temp-data-dir.js';
import { report, type BenchContext } from './bench-report.js';

const MEASUREMENTS = ['voltageL1', 'voltageL2', 'voltageL3', 'currentL1', 'currentL2', 'currentL3', 'power', 'frequency'];
const T0 = Date.UTC(2025, 0, 1);
/** Readings each side runs before it is timed, so both are measured with warm code. */
const WARMUP = 20_000;
const log = createLogger({ level: 'silent', pretty: false });

const percentile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

function settings(target: StorageSettings['target'], dataDir: string, maxPending: number): StorageSettings {
  return {
    target, dataDir, spoolMaxRows: 1000, rollupIntervalMs: 3_600_000,
    retention: { rawDays: null, minuteDays: null, hourDays: null, dayDays: null },
    ingest: { maxBatch: 5000, maxDelayMs: 50, maxPending },
  };
}

const meter = (id: string) => ({ id, driver: 'sdm630', bus: 'b', unitId: 1, enabled: true, requestMode: 'coalesce' as const, intervals: { instantMs: 1000, counterMs: 60000 } });
const values = (i: number) => Object.fromEntries(MEASUREMENTS.map((m, k) => [m, 230 + ((i * 7 + k) % 100) / 8]));

/** Timed rounds per side; each side reports its best (machines here are shared and noisy). */
const ROUNDS = 3;

/** Values per second through StorageService.offer → ingest queue → store, until committed: best of ROUNDS. */
async function ingestRate(s: StorageService, meterId: string, readings: number): Promise<number> {
  // Warm-up on another meter and time range, so both sides are timed with warm code.
  for (let i = 0; i < WARMUP; i++) s.offer({ meterId: 'warm', ts: T0 - 10_000_000_000 + i * 1000, values: values(i) });
  await s.queue.flush();
  let best = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const base = T0 + round * readings * 1000;
    const t0 = performance.now();
    // A producer that yields between batches, as readings really arrive: flushes overlap production.
    for (let i = 0; i < readings; i++) {
      s.offer({ meterId, ts: base + i * 1000, values: values(i) });
      if (i % 5000 === 4999) await new Promise((r) => setImmediate(r));
    }
    await s.queue.flush();
    best = Math.max(best, (readings * MEASUREMENTS.length) / ((performance.now() - t0) / 1000));
  }
  return best;
}

/**
 * The bare baseline's rows: values arrive as objects, so the least work to put
 * them in this table is packing each into the row format and inserting it. The
 * baseline does exactly that (with the same packer), nothing more: no queue,
 * no cache, no merge check, no rollup marks.
 */
function bareRow(i: number, meterRef: number, round = 0, readings = 0): [number, number, Buffer] {
  const v = values(i);
  return [meterRef, T0 + round * readings * 1000 + i * 1000, packValues(MEASUREMENTS.map((m, k) => [k + 1, v[m]!] as [number, number]))];
}

async function sqliteBench(ctx: BenchContext, readings: number): Promise<void> {
  const dir = tempDataDir();
  try {
    const s = await StorageService.open(settings({ engine: 'sqlite', filename: `${dir.dataDir}/bench.db` }, dir.dataDir, readings + 1), log);
    await s.syncConfigMeters([meter('bench'), meter('bare'), meter('day'), meter('warm')]);
    const rate = await ingestRate(s, 'bench', readings);
    await s.close();

    // Baseline: one prepared statement in one transaction, same table, same file.
    const db = new Database(`${dir.dataDir}/bench.db`);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    const insert = db.prepare('INSERT INTO readings_power (meter_ref, ts, data) VALUES (?, ?, ?)');
    db.transaction(() => {
      for (let i = 0; i < WARMUP; i++) insert.run(...bareRow(i, 4));
    })();
    let bare = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const t0 = performance.now();
      db.transaction(() => {
        for (let i = 0; i < readings; i++) {
          const r = bareRow(i, 2, round, readings);
          insert.run(r[0], r[1], r[2]);
        }
      })();
      bare = Math.max(bare, (readings * MEASUREMENTS.length) / ((performance.now() - t0) / 1000));
    }
    const bytes = (db.prepare("SELECT SUM(pgsize) AS b FROM dbstat WHERE name = 'readings_power'").get() as { b: number }).b;
    const storedValues = (2 * ROUNDS * readings + 2 * WARMUP) * MEASUREMENTS.length;
    db.close();

    report(ctx, 'sqlite: ingest rate through the ingest path', `${Math.round(rate).toLocaleString('en')} values/s`,
      `bare insert (pack + one prepared statement, one transaction) ${Math.round(bare).toLocaleString('en')} values/s`, `${((rate / bare) * 100).toFixed(0)}% (target >= 70% and >= 200,000 values/s)`,
      rate >= 0.7 * bare && rate >= 200_000);
    report(ctx, 'sqlite: bytes per stored raw value (table and indexes)', (bytes / storedValues).toFixed(2), `${storedValues.toLocaleString('en')} values in ${(bytes / 1e6).toFixed(1)} MB`,
      'target <= 16', bytes / storedValues <= 16);

    await historyBench(ctx, 'sqlite', settings({ engine: 'sqlite', filename: `${dir.dataDir}/bench.db` }, dir.dataDir, 200_000), 50, true);
  } finally {
    dir.cleanup();
  }
}

async function postgresBench(ctx: BenchContext, readings: number): Promise<void> {
  const dir = tempDataDir();
  const db = await createTestDatabase('bench');
  try {
    const target = { engine: 'postgres' as const, connection: db.connection };
    const s = await StorageService.open(settings(target, dir.dataDir, readings + 1), log);
    await s.syncConfigMeters([meter('bench'), meter('bare'), meter('day'), meter('warm')]);
    const rate = await ingestRate(s, 'bench', readings);
    await s.close();

    const client = new pg.Client(db.connection);
    await client.connect();
    for (let w = 0; w < WARMUP; w += 4000) {
      const warm = Array.from({ length: 4000 }, (_, k) => bareRow(w + k, 4));
      await client.query(`INSERT INTO readings_power (meter_ref, ts, data) VALUES ${warm.map((_, k) => `($${3 * k + 1}, $${3 * k + 2}, $${3 * k + 3})`).join(',')}`, warm.flat());
    }
    let bare = 0;
    for (let round = 0; round < ROUNDS; round++) {
    const t0 = performance.now();
    await client.query('BEGIN');
    for (let i = 0; i < readings; i += 4000) {
      const chunk = Array.from({ length: Math.min(4000, readings - i) }, (_, k) => bareRow(i + k, 2, round, readings));
      await client.query(`INSERT INTO readings_power (meter_ref, ts, data) VALUES ${chunk.map((_, k) => `($${3 * k + 1}, $${3 * k + 2}, $${3 * k + 3})`).join(',')}`, chunk.flat());
    }
    await client.query('COMMIT');
    bare = Math.max(bare, (readings * MEASUREMENTS.length) / ((performance.now() - t0) / 1000));
    }
    const size = Number((await client.query<{ b: string }>("SELECT pg_total_relation_size('readings_power') AS b")).rows[0]!.b);
    await client.end();
    report(ctx, 'postgres: ingest rate through the ingest path', `${Math.round(rate).toLocaleString('en')} values/s`,
      `bare insert (pack + multi-row INSERT, one transaction) ${Math.round(bare).toLocaleString('en')} values/s`, `${((rate / bare) * 100).toFixed(0)}% (target >= 70%)`, rate >= 0.7 * bare);
    report(ctx, 'postgres: bytes per stored raw value (table and indexes)', (size / ((2 * ROUNDS * readings + 2 * WARMUP) * MEASUREMENTS.length)).toFixed(2), 'sqlite figure above', 'reported', true);
    await historyBench(ctx, 'postgres', settings(target, dir.dataDir, 200_000), 20, false);
  } finally {
    await db.drop();
    dir.cleanup();
  }
}

/**
 * A year of hourly and daily rollups for one meter with 8 measurements (as the
 * rollup job leaves them), then history over the year at automatic resolution
 * for ~1000 points; and a day of raw 1-second readings queried raw.
 */
async function historyBench(ctx: BenchContext, engine: string, st: StorageSettings, runs: number, withTarget: boolean): Promise<void> {
  const s = await StorageService.open(st, log);
  try {
    const ref = (await s.refOf('day'))!;
    await s.codes.ensure(MEASUREMENTS);
    const agg = (i: number) => packAggregates('power', new Map(MEASUREMENTS.map((m, k) => [s.codes.code(m)!, { min: 200 + k, max: 260 + k, sum: (230 + (i % 10)) * 60, count: 60 }])));
    for (const [res, n] of [['1h', 365 * 24], ['1d', 365]] as const) {
      const rows = Array.from({ length: n }, (_, i) => ({ meterRef: ref, ts: T0 + i * RESOLUTIONS[res].ms, data: agg(i) }));
      await s.store.writeRollups('power', res, rows);
    }
    const year = { family: 'power' as const, from: T0, to: T0 + 365 * 86_400_000, resolution: 'auto' as const, points: 1000 };
    const times: number[] = [];
    let points = 0;
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      points = (await s.history('day', year)).points.length;
      times.push(performance.now() - t0);
    }
    const p50 = percentile(times, 0.5);
    report(ctx, `${engine}: history over a year, automatic resolution (${points} points, 8 measurements)`,
      `p50 ${p50.toFixed(1)} ms, p95 ${percentile(times, 0.95).toFixed(1)} ms`, `${runs} queries`, withTarget ? 'target p50 < 50 ms' : 'reported', !withTarget || p50 < 50);

    const day = Date.UTC(2026, 0, 1);
    for (let i = 0; i < 86_400; i++) s.offer({ meterId: 'day', ts: day + i * 1000, values: values(i) });
    await s.queue.flush();
    const rawTimes: number[] = [];
    for (let i = 0; i < Math.min(runs, 10); i++) {
      const t0 = performance.now();
      points = (await s.history('day', { family: 'power', from: day, to: day + 86_400_000, resolution: 'raw' })).points.length;
      rawTimes.push(performance.now() - t0);
    }
    report(ctx, `${engine}: history over a day of raw 1-second data (${points} points)`,
      `p50 ${percentile(rawTimes, 0.5).toFixed(0)} ms, p95 ${percentile(rawTimes, 0.95).toFixed(0)} ms`, `${rawTimes.length} queries`, 'reported', true);
  } finally {
    await s.close();
  }
}

export async function storageBench(ctx: BenchContext): Promise<void> {
  await sqliteBench(ctx, ctx.smoke ? 50_000 : 150_000);
  await postgresBench(ctx, ctx.smoke ? 30_000 : 60_000);
}
