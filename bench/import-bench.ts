/**
 * Import benchmark: values per second from the old Django tables on
 * PostgreSQL (server-side cursor, column mapping, checkpoints) into a host's
 * PostgreSQL storage, beside the product's own direct ingest path
 * (`StorageService.ingestBatch` of the same readings, already in memory, in
 * batches of the same size) in the same run. Each side writes into a fresh
 * database. Event-loop delay during the import is printed for reference.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import pg from 'pg';
import type { Reading } from '@meterhub/sdk';
import { CheckpointFile } from '../core/src/import/import-checkpoint.js';
import { runImport } from '../core/src/import/import-job.js';
import { StorageSink } from '../core/src/import/reading-sink.js';
import { SqlSource } from '../core/src/import/sql-source.js';
import { createLogger } from '../core/src/logging/logger.js';
import { StorageService, type StorageSettings } from '../core/src/storage/storage-service.js';
import { createDjangoTables } from '../test-support/django-tables.js';
import { createTestDatabase, type TestDatabase } from '../test-support/postgres.js';
import { tempDataDir } from '../core/test/helpers/temp-data-dir.js';
import { report, type BenchContext } from './bench-report.js';

const PAGE = 5000;
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
    await b.close({ rollUp: false });

    const a = await StorageService.open(settings(imported, dir.dataDir), log);
    const src = await SqlSource.open({ url: url(source), pageSize: PAGE });
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    const result = await runImport(src, new StorageSink(a), { meterMap: new Map(), checkpoint: new CheckpointFile(dir.dataDir, src.id) });
    loop.disable();
    await src.close();
    await a.close({ rollUp: false });
    const importRate = result.run.values / (result.run.ms / 1000);
    if (result.run.values !== values) throw new Error(`the import stored ${result.run.values} values, the source has ${values}`);

    const ratio = importRate / directRate;
    console.log(`${(readings.length).toLocaleString('en')} rows (2 meters × ${minutes / 1440} days of 1-minute power and energy readings), ${values.toLocaleString('en')} values`);
    report(ctx, 'import from PostgreSQL', `${Math.round(importRate).toLocaleString('en')} values/s`, `ingestBatch ${Math.round(directRate).toLocaleString('en')} values/s`, `${(ratio * 100).toFixed(0)}% (target >= 50%)`, ratio >= 0.5);
    console.log(`       event-loop delay during the import: p99 ${(loop.percentile(99) / 1e6).toFixed(1)} ms, max ${(loop.max / 1e6).toFixed(1)} ms (no polling in this process)`);
  } finally {
    for (const db of [source, imported, direct]) await db.drop();
    dir.cleanup();
  }
}
