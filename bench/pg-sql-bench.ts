/**
 * Readings readable with SQL on PostgreSQL: the two layouts compared in one run
 * on the same server, same data (one meter, 8 measurements per reading, one
 * reading per second).
 *  (a) packed rows (the storage layout) read through the meterhub.* views, which decode in PL/pgSQL;
 *  (b) a wide table: a double precision column per power measurement of the vocabulary.
 * Figures: ingest rate of a bare multi-row INSERT into each (the same loop, so the
 * difference is the layout), bytes per stored value, and a Grafana-style query
 * (one-minute averages of two columns over the whole range).
 */
import pg from 'pg';
import { MEASUREMENTS } from '@meterhub/sdk';
import { createLogger } from '../core/src/logging/logger.js';
import { packValues } from '../core/src/storage/packed-values.js';
import { packAggregates } from '../core/src/storage/rollups.js';
import { snakeCase } from '../core/src/storage/sql-views.js';
import { StorageService } from '../core/src/storage/storage-service.js';
import { createTestDatabase } from '../test-support/postgres.js';
import { tempDataDir } from '../core/test/helpers/temp-data-dir.js';
import { report, type BenchContext } from './bench-report.js';

const MEASURED = ['voltageL1', 'voltageL2', 'voltageL3', 'currentL1', 'currentL2', 'currentL3', 'power', 'frequency'];
const T0 = Date.UTC(2026, 0, 1);
const CHUNK = 4000;
const ROUNDS = 3;
const log = createLogger({ level: 'silent', pretty: false });
const values = (i: number) => MEASURED.map((_, k) => 230 + ((i * 7 + k) % 100) / 8);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (n: number) => Math.round(n).toLocaleString('en');

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/** Inserts `readings` rows with the same multi-row INSERT loop; `row(i)` gives the parameters of reading i. */
async function insertAll(client: pg.Client, sql: (rows: number) => string, row: (i: number) => unknown[], readings: number): Promise<number> {
  return timed(async () => {
    await client.query('BEGIN');
    for (let i = 0; i < readings; i += CHUNK) {
      const n = Math.min(CHUNK, readings - i);
      const params: unknown[] = [];
      for (let k = 0; k < n; k++) params.push(...row(i + k));
      await client.query(sql(n), params);
    }
    await client.query('COMMIT');
  });
}

const placeholders = (rows: number, width: number) =>
  Array.from({ length: rows }, (_, r) => `(${Array.from({ length: width }, (_, c) => `$${r * width + c + 1}`).join(', ')})`).join(',');

export async function pgSqlBench(ctx: BenchContext): Promise<void> {
  const readings = ctx.smoke ? 21_600 : 86_400;
  const runs = ctx.smoke ? 3 : 7;
  const dir = tempDataDir();
  const db = await createTestDatabase('pgsql');
  const client = new pg.Client(db.connection);
  try {
    // The schema, the views and the meter come from the host itself.
    const s = await StorageService.open({
      target: { engine: 'postgres', connection: db.connection }, dataDir: dir.dataDir, spoolMaxRows: 1000, rollupIntervalMs: 3_600_000,
      retention: { rawDays: null, minuteDays: null, hourDays: null, dayDays: null }, ingest: { maxBatch: 5000, maxDelayMs: 50, maxPending: 100_000 },
    }, log);
    await s.syncConfigMeters([{ id: 'bench', driver: 'sdm630', bus: 'b', unitId: 1, enabled: true, requestMode: 'coalesce', intervals: { instantMs: 1000, counterMs: 60000 } }]);
    await s.codes.ensure(MEASURED);
    const ref = (await s.refOf('bench'))!;
    const codes = MEASURED.map((m) => s.codes.code(m)!);
    await s.close();

    await client.connect();
    const powerColumns = [...MEASUREMENTS.values()].filter((m) => m.family === 'power').map((m) => snakeCase(m.id));
    await client.query(`CREATE TABLE wide_power (meter_ref INTEGER NOT NULL, ts TIMESTAMPTZ NOT NULL, ${powerColumns.map((c) => `${c} DOUBLE PRECISION`).join(', ')}, PRIMARY KEY (meter_ref, ts))`);
    await client.query('CREATE INDEX wide_power_ts_brin ON wide_power USING BRIN (ts)');
    const wideCols = MEASURED.map(snakeCase);

    // The layout before the views' time index (migration 002): what that index costs the insert.
    await client.query('CREATE TABLE readings_power_before (meter_ref INTEGER NOT NULL, ts BIGINT NOT NULL, data BYTEA NOT NULL, PRIMARY KEY (meter_ref, ts))');
    await client.query('CREATE INDEX readings_power_before_ts_brin ON readings_power_before USING BRIN (ts)');
    const packed = (table: string) => (round: number) => insertAll(client, (n) => `INSERT INTO ${table} (meter_ref, ts, data) VALUES ${placeholders(n, 3)} ON CONFLICT DO NOTHING`,
      (i) => [ref, T0 + (round * readings + i) * 1000, packValues(values(i).map((v, k) => [codes[k]!, v] as [number, number]))], readings);
    const wide = (round: number) => insertAll(client, (n) => `INSERT INTO wide_power (meter_ref, ts, ${wideCols.join(', ')}) VALUES ${placeholders(n, 2 + wideCols.length)} ON CONFLICT DO NOTHING`,
      (i) => [ref, new Date(T0 + (round * readings + i) * 1000), ...values(i)], readings);
    // Rounds alternate the three tables so warm-up and load swings hit each alike; each reports its best round.
    const sides = [packed('readings_power'), packed('readings_power_before'), wide];
    const best = [Infinity, Infinity, Infinity];
    for (let round = 0; round < ROUNDS; round++) {
      for (let k = 0; k < sides.length; k++) best[k] = Math.min(best[k]!, await sides[k]!(round));
    }
    const [packedMs, beforeMs, wideMs] = best as [number, number, number];
    await client.query('VACUUM ANALYZE readings_power');
    await client.query('VACUUM ANALYZE wide_power');
    const size = async (t: string) => Number((await client.query<{ b: string }>('SELECT pg_total_relation_size($1) AS b', [t])).rows[0]!.b);
    const stored = readings * MEASURED.length;
    const storedAll = ROUNDS * stored;
    const [packedBytes, wideBytes] = [await size('readings_power') / storedAll, await size('wide_power') / storedAll];

    const from = new Date(T0).toISOString();
    const to = new Date(T0 + readings * 1000 - 1).toISOString();
    const grafana = (source: string, meter: string) => `SELECT floor(extract(epoch from ts)/60)*60 AS "time", avg(power) AS power, avg(voltage_l1) AS voltage_l1
      FROM ${source} WHERE ${meter} AND ts BETWEEN '${from}' AND '${to}' GROUP BY 1 ORDER BY 1`;
    const viewSql = grafana('meterhub.power_readings', "meter = 'bench'");
    const wideSql = grafana('wide_power w JOIN meters m ON m.ref = w.meter_ref', "m.key = 'bench'");
    const check = async (sql: string) => (await client.query(sql)).rows.length;
    if (await check(viewSql) !== readings / 60 || await check(wideSql) !== readings / 60) throw new Error('the two layouts answer different row counts');
    const viewTimes: number[] = [];
    const wideTimes: number[] = [];
    for (let r = 0; r < runs; r++) {
      viewTimes.push(await timed(() => client.query(viewSql)));
      wideTimes.push(await timed(() => client.query(wideSql)));
    }
    const [viewMs, wideQueryMs] = [median(viewTimes), median(wideTimes)];

    // The same range at minute resolution, from the minute rollups (as the rollup job leaves them).
    const minutes = readings / 60;
    const agg = (i: number) => packAggregates('power', new Map(codes.map((c, k) => [c, { min: 200 + k, max: 260 + k, sum: (230 + (i % 10)) * 60, count: 60 }])));
    for (let i = 0; i < minutes; i += 2000) {
      const n = Math.min(2000, minutes - i);
      const params: unknown[] = [];
      for (let k = 0; k < n; k++) params.push(ref, 1, T0 + (i + k) * 60_000, agg(i + k));
      await client.query(`INSERT INTO rollups_power (meter_ref, resolution, bucket, data) VALUES ${placeholders(n, 4)}`, params);
    }
    await client.query('VACUUM ANALYZE rollups_power');
    const rollupSql = `SELECT floor(extract(epoch from ts)/60)*60 AS "time", avg(power_avg) AS power, avg(voltage_l1_avg) AS voltage_l1
      FROM meterhub.power_rollups_1m WHERE meter = 'bench' AND ts BETWEEN '${from}' AND '${to}' GROUP BY 1 ORDER BY 1`;
    if (await check(rollupSql) !== minutes) throw new Error('the minute rollup view answers a wrong row count');
    const rollupTimes: number[] = [];
    for (let r = 0; r < runs; r++) rollupTimes.push(await timed(() => client.query(rollupSql)));

    const packedRate = stored / (packedMs / 1000);
    const wideRate = stored / (wideMs / 1000);
    report(ctx, 'pg-sql: bare ingest, packed rows (the storage layout)', `${fmt(packedRate)} values/s`,
      `wide table, double precision column per measurement: ${fmt(wideRate)} values/s`, `${((packedRate / wideRate) * 100).toFixed(0)}% of the wide table (reported)`, true);
    report(ctx, 'pg-sql: bare ingest with the views\' time index (BRIN on to_timestamp(ts))', `${fmt(packedRate)} values/s`,
      `the same table without it: ${fmt(stored / (beforeMs / 1000))} values/s`, `${((packedRate / (stored / (beforeMs / 1000))) * 100).toFixed(0)}% (reported)`, true);
    report(ctx, 'pg-sql: bytes per stored value (table and indexes)', `packed ${packedBytes.toFixed(1)}`, `wide ${wideBytes.toFixed(1)}`, `${(wideBytes / packedBytes).toFixed(2)}x for the wide table (reported)`, true);
    report(ctx, `pg-sql: Grafana-style query, 1-minute averages of 2 columns over ${readings / 3600} h of 1 s readings`, `view over packed rows: median ${viewMs.toFixed(0)} ms`,
      `wide table: median ${wideQueryMs.toFixed(0)} ms`, `${(viewMs / wideQueryMs).toFixed(1)}x the wide table (reported)`, true);
    report(ctx, `pg-sql: the same query from the minute rollup view (${fmt(minutes)} rows)`, `median ${median(rollupTimes).toFixed(1)} ms`,
      `raw view above: median ${viewMs.toFixed(0)} ms`, `${(viewMs / median(rollupTimes)).toFixed(0)}x faster than the raw view (reported)`, true);
  } finally {
    await client.end().catch(() => undefined);
    await db.drop();
    dir.cleanup();
  }
}
