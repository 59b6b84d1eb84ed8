/**
 * Scale benchmark: simulated collectors (SDM630 readings, 86 values, one a
 * second per meter, through the uplink's outbox and HTTP) against 2 central
 * host processes on loopback that store into one PostgreSQL and fan live
 * readings out over Redis. Collectors are added step by step until the
 * committed rate stops rising. Per step: values/s committed, p99 from reading
 * time to commit, CPU per tier. The ramp runs twice, each time on a fresh
 * database and central hosts: first with one `POST /api/readings/` per batch,
 * then with the uplink posting one request per meter and family (its path to
 * central hosts without the bulk endpoint: the baseline). Baselines in the same run: the storage path alone (StorageService
 * into PostgreSQL, no HTTP), and the ways of inserting rows side by side
 * (bench/pg-ingest-methods.ts).
 */
import { cpus, loadavg } from 'node:os';
import { getMeasurement } from '@meterhub/sdk';
import pg from 'pg';
import { createLogger } from '../core/src/logging/logger.js';
import { StorageService } from '../core/src/storage/storage-service.js';
import { tempDataDir } from '../core/test/helpers/temp-data-dir.js';
import { builtinDriver } from '../test-support/builtin-drivers.js';
import { createTestDatabase } from '../test-support/postgres.js';
import { report, type BenchContext } from './bench-report.js';
import { compareMethods, sampleRows } from './pg-ingest-methods.js';
import { cpuSeconds, machineBusySeconds, pidsNamed, sumCpu } from './proc-cpu.js';
import type { CollectorReport } from './scale-collector.js';
import { centralErrors, createKey, createMeters, startCentral, startCollector, stop, type Central, type Collector } from './scale-tiers.js';

const MEASUREMENTS = builtinDriver('sdm630').registers.map((r) => r.measurement.id);
const VALUES = MEASUREMENTS.length;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fmt = (n: number) => Math.round(n).toLocaleString('en');
const log = createLogger({ level: 'silent', pretty: false });

interface Step {
  meters: number;
  offered: number;
  committed: number;
  p99Ms: number;
  notCommitted: number;
  /** Rows (one family of one reading) per committed request. */
  rowsPerRequest: number;
  queued: number;
  /** CPU cores busy per tier during the window. */
  cores: Record<string, number>;
  /** The busier of the two central host processes, in cores. */
  busiestCentral: number;
}

/**
 * The storage path alone: StorageService.offer of SDM630 readings of many
 * meters, one a second each, until committed (best of rounds); then the rollup
 * job over the minutes they left dirty, in meter-minutes per second.
 */
async function storagePath(ctx: BenchContext): Promise<{ valuesPerSecond: number; meterMinutesPerSecond: number; bytesPerValue: number; bytesPerMeterMinute: number }> {
  const db = await createTestDatabase('scale_base');
  const dir = tempDataDir();
  const meters = 200;
  const readings = ctx.smoke ? 4000 : 40_000;
  try {
    // The central host's ingest settings: the schema's defaults, except memory for the whole run (nothing spills).
    const s = await StorageService.open({
      target: { engine: 'postgres', connection: db.connection }, dataDir: dir.dataDir, spoolMaxRows: 1000, rollupIntervalMs: 3_600_000,
      retention: { rawDays: null, minuteDays: null, hourDays: null, dayDays: null }, ingest: { maxBatch: 2000, maxDelayMs: 250, maxPending: readings + 1 },
    }, log);
    try {
      const ids = Array.from({ length: meters }, (_, k) => `base${k}`);
      await s.syncConfigMeters(ids.map((id) => ({ id, driver: 'sdm630', bus: 'b', unitId: 1, enabled: true, requestMode: 'coalesce' as const, intervals: { instantMs: 1000, counterMs: 60000 } })));
      let best = 0;
      for (let round = 0; round < (ctx.smoke ? 2 : 3); round++) {
        const t0 = performance.now();
        for (let i = 0; i < readings; i++) {
          const ts = Date.UTC(2025, 0, 1) + (round * readings + i - (i % meters)) / meters * 1000;
          s.offer({ meterId: ids[i % meters]!, ts, values: Object.fromEntries(MEASUREMENTS.map((m, k) => [m, Math.fround(100 + ((i + k) % 150))])) });
          if (i % 2000 === 1999) await new Promise((r) => setImmediate(r));
        }
        await s.queue.flush();
        // Round 0 warms code and caches.
        if (round > 0) best = Math.max(best, (readings * VALUES) / ((performance.now() - t0) / 1000));
      }
      const { rows } = await s.knex.raw('SELECT count(*) AS n FROM rollup_dirty') as { rows: Array<{ n: string }> };
      const t0 = performance.now();
      await s.refresh();
      const meterMinutesPerSecond = Number(rows[0]!.n) / ((performance.now() - t0) / 1000);
      const size = async (sql: string) => Number(((await s.knex.raw(sql)) as { rows: Array<{ v: string }> }).rows[0]!.v);
      const rawBytes = await size("SELECT pg_total_relation_size('readings_power') + pg_total_relation_size('readings_energy') AS v");
      const rawRows = await size('SELECT (SELECT count(*) FROM readings_power) + (SELECT count(*) FROM readings_energy) AS v');
      const rollupBytes = await size("SELECT pg_total_relation_size('rollups_power') + pg_total_relation_size('rollups_energy') AS v");
      const rollupRows = await size('SELECT (SELECT count(*) FROM rollups_power) + (SELECT count(*) FROM rollups_energy) AS v');
      // A meter-minute, once rolled up, is a row per family, and a 60th and a 1440th of one for its hour and day.
      const bytesPerMeterMinute = (rollupBytes / rollupRows) * 2 * (1 + 1 / 60 + 1 / 1440);
      // Every reading is a row per family.
      return { valuesPerSecond: best, meterMinutesPerSecond, bytesPerValue: rawBytes / ((rawRows / 2) * VALUES), bytesPerMeterMinute };
    } finally {
      await s.close({ rollUp: false });
    }
  } finally {
    await db.drop();
    dir.cleanup();
  }
}

async function ingestMethods(ctx: BenchContext): Promise<void> {
  const db = await createTestDatabase('scale_methods');
  try {
    const rows = sampleRows(ctx.smoke ? 10_000 : 40_000, 500, VALUES, Date.UTC(2025, 0, 1));
    const results = await compareMethods(db.connection, rows, VALUES, 2000, ctx.smoke ? 1 : 2);
    const previous = results[0]!;
    for (const r of results) {
      console.log(`       ${r.name}: ${fmt(r.valuesPerSecond)} values/s, p99 commit of a 2000-row batch ${r.p99CommitMs.toFixed(0)} ms (${(r.valuesPerSecond / previous.valuesPerSecond).toFixed(2)}x the previous path)`);
    }
    const product = results.at(-1)!;
    const fastest = results.reduce((a, b) => (b.valuesPerSecond > a.valuesPerSecond ? b : a));
    report(ctx, 'scale: PostgreSQL ingest method of the product (binary COPY), SDM630 rows of 86 values',
      `${fmt(product.valuesPerSecond)} values/s`, `multi-row INSERT ${fmt(previous.valuesPerSecond)} values/s`,
      `${(product.valuesPerSecond / previous.valuesPerSecond).toFixed(2)}x (target: the fastest method measured, within noise)`, product.valuesPerSecond >= 0.9 * fastest.valuesPerSecond);
  } finally {
    await db.drop();
  }
}

/** Pids of PostgreSQL processes working for `database`, and the server's shared writers. */
async function pgPids(admin: pg.Client, database: string): Promise<number[]> {
  const { rows } = await admin.query<{ pid: number }>(
    "SELECT pid FROM pg_stat_activity WHERE datname = $1 OR backend_type IN ('walwriter', 'checkpointer', 'background writer', 'autovacuum launcher', 'autovacuum worker')", [database]);
  return rows.map((r) => r.pid);
}

export async function scaleBench(ctx: BenchContext): Promise<void> {
  console.log(`       ${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} at the start`);
  await ingestMethods(ctx);
  const { valuesPerSecond: baseline, meterMinutesPerSecond, bytesPerValue, bytesPerMeterMinute } = await storagePath(ctx);
  console.log(`       storage path alone (StorageService into PostgreSQL, no HTTP): ${fmt(baseline)} values/s; ${bytesPerValue.toFixed(2)} bytes per raw value, ${fmt(bytesPerMeterMinute)} bytes of rollups per meter-minute (minute, hour and day rows of both families)`);
  console.log(`       rollup job after it: ${fmt(meterMinutesPerSecond)} meter-minutes/s, enough for ${fmt(meterMinutesPerSecond * 60)} meters reading once a second`);
  // Each ramp on its own database and central hosts: neither pays for the other's meters or backlog.
  const bulk = await withCluster('scale_bulk', async (c) => ({ steps: await ramp(ctx, { perMeter: false, ...c }), bytes: await storedBytes(c.admin) }));
  const perMeter = await withCluster('scale_meter', (c) => ramp(ctx, { perMeter: true, ...c }));
  await summarise(ctx, bulk.steps, perMeter, baseline, bulk.bytes);
  console.log(`       load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} at the end`);
}

interface Cluster {
  root: string;
  key: string;
  centrals: Central[];
  admin: pg.Client;
  database: string;
}

/** 2 central hosts on a fresh PostgreSQL database, for the length of `fn`; reports what they logged at error level. */
async function withCluster<T>(label: string, fn: (c: Cluster) => Promise<T>): Promise<T> {
  const db = await createTestDatabase(label);
  const dir = tempDataDir();
  const admin = new pg.Client(db.connection);
  const centrals: Central[] = [];
  try {
    const key = await createKey(dir.root, db.connection);
    for (let i = 0; i < 2; i++) centrals.push(await startCentral(dir.root, i, db.connection));
    await admin.connect();
    const out = await fn({ root: dir.root, key, centrals, admin, database: db.name });
    const errors = centralErrors(dir.root);
    if (errors.length) console.log(`       central hosts logged ${errors.length} error line(s), the first: ${errors[0]!.slice(0, 400)}`);
    return out;
  } finally {
    await Promise.all(centrals.map((c) => stop(c.child)));
    await admin.end().catch(() => undefined);
    await db.drop();
    dir.cleanup();
  }
}

/** Values stored in the raw tables, and the bytes those tables take with their indexes. */
async function storedBytes(admin: pg.Client): Promise<{ stored: number; bytes: number }> {
  const families = { power: 0, energy: 0 };
  for (const m of MEASUREMENTS) families[getMeasurement(m)!.family]++;
  const { rows } = await admin.query<{ t: string; n: string; bytes: string }>(
    "SELECT t, (SELECT count(*) FROM readings_power) AS n, pg_total_relation_size('readings_power') AS bytes FROM (VALUES ('power')) v(t) UNION ALL SELECT 'energy', (SELECT count(*) FROM readings_energy), pg_total_relation_size('readings_energy')");
  // The rollup job ran beside the ingest all along: what it left shows whether it kept up (minutes still filling are left on purpose).
  const marks = (await admin.query<{ n: string; old: string; minutes: string }>(
    "SELECT count(*) AS n, count(*) FILTER (WHERE minute < $1) AS old, (SELECT count(*) FROM rollups_power WHERE resolution = 1) AS minutes FROM rollup_dirty", [Date.now() - 3 * 60_000])).rows[0]!;
  console.log(`       rollups at the end of the ramp: ${fmt(Number(marks.minutes))} meter-minutes rolled up, ${fmt(Number(marks.n))} minutes still marked dirty (${fmt(Number(marks.old))} of them older than 3 minutes)`);
  return { stored: rows.reduce((sum, r) => sum + Number(r.n) * families[r.t as 'power' | 'energy'], 0), bytes: rows.reduce((sum, r) => sum + Number(r.bytes), 0) };
}

/**
 * Collector sites of 25 meters each, spread over 8 processes, 4 per central
 * host: 10,000 meters reach the central hosts from 400 edge collectors (the
 * "hundreds of edge collectors" of a building manager or a utility pilot),
 * each a host with several buses or Modbus TCP gateways; each step adds sites
 * to every process, until the committed rate stops rising. `perMeter`: the
 * uplink posts one request per meter and family (its fallback for older
 * central hosts) instead of one bulk request per batch.
 */
async function ramp(ctx: BenchContext, o: Cluster & { perMeter: boolean }): Promise<Step[]> {
  const metersPerSite = 25;
  const processes = ctx.smoke ? 2 : 8;
  const plan = ctx.smoke ? [1, 2] : [1, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 24, 28, 32, 40];
  const settleMs = ctx.smoke ? 2000 : 8000;
  const maxSettleMs = ctx.smoke ? 10_000 : 60_000;
  const windowMs = ctx.smoke ? 3000 : 10_000;
  const collectors: Collector[] = [];
  const steps: Step[] = [];
  let window = { notCommitted: 0, rows: 0, requests: 0, hist: new Map<number, number>(), bucketMs: 10 };
  try {
    const onReport = (c: Collector, r: CollectorReport) => {
      c.seconds++;
      c.values += r.values;
      c.queued = r.queued;
      window.notCommitted += r.notCommitted;
      window.rows += r.rows;
      window.requests += r.requests;
      window.bucketMs = r.bucketMs;
      for (const [b, n] of r.latency) window.hist.set(b, (window.hist.get(b) ?? 0) + n);
    };
    for (let n = 0; n < processes; n++) {
      collectors.push(startCollector(o.root, {
        id: `${o.perMeter ? 'p' : 'c'}${n}`, url: o.centrals[n % 2]!.url, key: o.key, metersPerSite, measurements: MEASUREMENTS, batch: { maxReadings: 1000, maxDelayMs: 1000 }, perMeter: o.perMeter,
      }, onReport));
    }
    console.log(`       ${o.perMeter ? 'per meter (baseline): one POST per meter and family, as to a central host without the bulk endpoint' : 'bulk: one POST /api/readings/ per batch carrying every meter and family'}`);
    console.log(`       collector sites of ${metersPerSite} meters, each with its own uplink outbox and sender (the uplink's default batch: up to 1000 rows, 1000 ms), in ${processes} processes, half to each central host; ${VALUES} values a reading, one reading a second`);
    console.log('       meters  created s  settled s  offered v/s  committed v/s  p99 ms  rows/request  central cores (busiest)  PostgreSQL  Redis  collectors  machine busy');
    await Promise.all(collectors.map((c) => c.ready));
    let sites = 0;
    for (const sitesPerProcess of plan) {
      // The step's new meters are created first, each on the central host its collector sends to: a step measures readings, not
      // meters being set up (the uplink creates a meter it finds missing, one request each; the uplink tests cover that path).
      const creating = performance.now();
      await Promise.all(collectors.map((c, n) => createMeters(o.centrals[n % 2]!.url, o.key,
        Array.from({ length: (sitesPerProcess - sites) * metersPerSite }, (_, i) => `${c.id}-s${sites + Math.floor(i / metersPerSite)}-m${i % metersPerSite}`))));
      const createdS = (performance.now() - creating) / 1000;
      sites = sitesPerProcess;
      for (const c of collectors) c.child.send({ sites: sitesPerProcess });
      const meters = processes * sitesPerProcess * metersPerSite;
      // Measured once steady: the new meters created on the central hosts and the backlog of their first readings sent, that is the
      // outboxes back to the couple of seconds of rows a batch delay and a request in flight hold (2 rows a reading), or after maxSettleMs.
      const settleStart = performance.now();
      await sleep(settleMs);
      while (performance.now() - settleStart < maxSettleMs && collectors.reduce((q, c) => q + c.queued, 0) > meters * 2 * 2) await sleep(500);
      const settledS = (performance.now() - settleStart) / 1000;
      for (const c of collectors) Object.assign(c, { seconds: 0, values: 0 });
      window = { notCommitted: 0, rows: 0, requests: 0, hist: new Map(), bucketMs: window.bucketMs };
      const pgp = await pgPids(o.admin, o.database);
      const redis = pidsNamed('redis-server');
      const tiers = () => ({
        central: sumCpu(o.centrals.map((c) => c.child.pid!)), postgres: sumCpu(pgp), redis: sumCpu(redis),
        collectors: sumCpu(collectors.map((c) => c.child.pid!)), machine: machineBusySeconds(),
        central0: sumCpu([o.centrals[0]!.child.pid!]), central1: sumCpu([o.centrals[1]!.child.pid!]),
      });
      const before = tiers();
      const pgBefore = new Map(pgp.map((p) => [p, cpuSeconds(p)]));
      const t0 = performance.now();
      await sleep(windowMs);
      const after = tiers();
      const seconds = (performance.now() - t0) / 1000;
      const cores = Object.fromEntries(Object.keys(before).map((k) => [k, (after[k as keyof typeof after] - before[k as keyof typeof before]) / seconds]));
      // Per backend: an autovacuum worker that exited in the window must not subtract the CPU it had before it.
      cores['postgres'] = pgp.reduce((sum, p) => {
        const now = cpuSeconds(p);
        return sum + (now > 0 ? Math.max(0, now - pgBefore.get(p)!) : 0);
      }, 0) / seconds;
      // Each report covers one second of one collector: a rate per collector, then summed.
      const committed = collectors.reduce((s, c) => s + (c.seconds ? c.values / c.seconds : 0), 0);
      const total = [...window.hist.values()].reduce((a, b) => a + b, 0);
      let seen = 0;
      let p99 = 0;
      for (const [b, n] of [...window.hist.entries()].sort((x, y) => x[0] - y[0])) {
        seen += n;
        if (seen >= 0.99 * total) {
          p99 = (b + 1) * window.bucketMs;
          break;
        }
      }
      const step: Step = {
        meters, offered: meters * VALUES, committed, p99Ms: p99, notCommitted: window.notCommitted, rowsPerRequest: window.rows / Math.max(1, window.requests),
        queued: collectors.reduce((s, c) => s + c.queued, 0), cores, busiestCentral: Math.max(cores['central0']!, cores['central1']!),
      };
      steps.push(step);
      console.log(`       ${String(meters).padStart(6)}  ${createdS.toFixed(0).padStart(9)}  ${settledS.toFixed(0).padStart(9)}  ${fmt(step.offered).padStart(11)}  ${fmt(committed).padStart(13)}  ${String(p99).padStart(6)}  ${step.rowsPerRequest.toFixed(1).padStart(12)}  ${cores['central']!.toFixed(2).padStart(13)} (${step.busiestCentral.toFixed(2)})  ${cores['postgres']!.toFixed(2).padStart(10)}  ${cores['redis']!.toFixed(2).padStart(5)}  ${cores['collectors']!.toFixed(2).padStart(10)}  ${cores['machine']!.toFixed(2).padStart(12)}${step.notCommitted ? `  (${step.notCommitted} submissions not committed)` : ''}`);
      const best = Math.max(...steps.slice(0, -1).map((s) => s.committed), 0);
      // Stop once the rate no longer rises: below 5% over the best so far while not keeping up with the offered load.
      if (steps.length > 1 && committed < 1.05 * best && committed < 0.95 * step.offered) break;
      if (p99 > 30_000) break;
    }
  } finally {
    await Promise.all(collectors.map((c) => stop(c.child, 1000)));
  }
  return steps;
}

/** Sustained: the best step that kept up with what was offered (no growing backlog) within the latency target; peak: the best step. */
function sustainedAndPeak(steps: readonly Step[]): { sustained: Step | undefined; peak: Step } {
  const kept = steps.filter((s) => s.committed >= 0.95 * s.offered && s.p99Ms < 2000);
  const best = (list: readonly Step[]) => list.reduce((a, b) => (b.committed > a.committed ? b : a));
  return { sustained: kept.length ? best(kept) : undefined, peak: best(steps) };
}

/** Sustained rate, bulk against per meter, bytes per value, CPU per 10k values/s, the bottleneck. */
async function summarise(ctx: BenchContext, steps: Step[], perMeterSteps: Step[], baseline: number, { stored, bytes }: { stored: number; bytes: number }): Promise<void> {
  const { sustained, peak } = sustainedAndPeak(steps);
  const rate = sustained?.committed ?? 0;
  report(ctx, 'scale: sustained end-to-end rate, 2 central hosts, p99 reading time to commit < 2 s',
    `${fmt(rate)} values/s (${sustained ? `${sustained.meters} meters, p99 ${sustained.p99Ms} ms` : 'no step kept up'}); peak committed ${fmt(peak.committed)} values/s at ${peak.meters} meters, p99 ${peak.p99Ms} ms`,
    `storage path alone ${fmt(baseline)} values/s`, `${((rate / baseline) * 100).toFixed(0)}% of the storage path (target >= 200,000 values/s)`, rate >= 200_000);
  // Central CPU per value at the same load: the steps both ramps ran and kept up with (committed within 5% of offered).
  const old = sustainedAndPeak(perMeterSteps);
  const centralPer10k = (at: Step) => at.cores['central']! / (at.committed / 10_000);
  const keptUp = (at: Step) => Math.abs(at.committed - at.offered) <= 0.05 * at.offered;
  const pairs = steps.filter(keptUp).flatMap((b) => perMeterSteps.filter((p) => p.meters === b.meters && keptUp(p)).map((p) => ({ meters: b.meters, ratio: centralPer10k(p) / centralPer10k(b), bulk: centralPer10k(b), perMeter: centralPer10k(p) })));
  const ratios = pairs.map((x) => x.ratio).sort((x, y) => x - y);
  const median = ratios.length ? ratios[Math.floor((ratios.length - 1) / 2)]! : 0;
  report(ctx, 'scale: central host CPU per value, bulk uplink (one POST /api/readings/ per batch) against one POST per meter and family, at the same load',
    pairs.length ? pairs.map((x) => `${x.meters} meters ${x.bulk.toFixed(3)} s`).join(', ') + ' per 10k values/s' : 'no step both ramps kept up with',
    `per meter: ${pairs.map((x) => `${x.perMeter.toFixed(3)} s`).join(', ')}; sustained ${fmt(old.sustained?.committed ?? 0)}, peak ${fmt(old.peak.committed)} values/s (bulk: ${fmt(rate)}, ${fmt(peak.committed)})`,
    `${median.toFixed(2)}x less CPU per value (median of ${pairs.length} steps; target > 1)`, median > 1);

  const families = { power: 0, energy: 0 };
  for (const m of MEASUREMENTS) families[getMeasurement(m)!.family]++;
  report(ctx, 'scale: PostgreSQL bytes per stored value (raw tables with their indexes)', (bytes / Math.max(1, stored)).toFixed(2),
    `${fmt(stored)} values in ${(bytes / 1e6).toFixed(0)} MB`, `${families.power} power + ${families.energy} energy values a reading`, true);

  // At the sustained step each request carries about one reading; at the peak, backlogged senders put several in one.
  for (const [label, at] of [['the sustained step', sustained], ['the peak', peak]] as const) {
    if (!at) continue;
    const per10k = (cores: number) => (cores / (at.committed / 10_000)).toFixed(3);
    const perValue = (at.cores['central']! + at.cores['postgres']! + at.cores['redis']! + at.cores['collectors']!) / at.committed;
    report(ctx, `scale: CPU seconds per 10k values/s at ${label} (${fmt(at.committed)} values/s, ${at.rowsPerRequest.toFixed(1)} rows a request)`,
      `central hosts ${per10k(at.cores['central']!)}, PostgreSQL ${per10k(at.cores['postgres']!)}, Redis ${per10k(at.cores['redis']!)}, collectors ${per10k(at.cores['collectors']!)}`,
      `machine busy ${at.cores['machine']!.toFixed(2)} of ${cpus().length} cores`, `all tiers on ${cpus().length} otherwise idle cores at this cost: about ${fmt(cpus().length / perValue)} values/s`, true);
  }

  const shares = { 'central hosts (Node)': peak.cores['central']!, PostgreSQL: peak.cores['postgres']!, Redis: peak.cores['redis']!, collectors: peak.cores['collectors']! };
  const ours = Object.values(shares).reduce((a, b) => a + b, 0);
  const [tier, used] = Object.entries(shares).reduce((a, b) => (b[1] > a[1] ? b : a));
  const saturated = peak.busiestCentral >= 0.9 ? `a central host process at ${peak.busiestCentral.toFixed(2)} cores (one Node event loop is saturated)`
    : peak.cores['machine']! >= 0.9 * cpus().length ? `the machine's ${cpus().length} cores: ${peak.cores['machine']!.toFixed(2)} busy, ${ours.toFixed(2)} of them this benchmark's tiers, the rest other work on the machine`
      : 'no core saturated: latency, not CPU';
  report(ctx, 'scale: bottleneck at the peak', `${tier}, ${used.toFixed(2)} cores`, saturated, 'reported', true);
}
