/**
 * Rollup throughput, by ranges and minute by minute, on the same stored
 * readings in the same run (part of the import group: rolling up is what
 * follows an import). Meter-minutes per second: one mark per meter and minute.
 */
import { createHash } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { rollUpBatch, type RollupMode } from '../core/src/storage/rollup-job.js';
import type { StorageService } from '../core/src/storage/storage-service.js';
import { report, type BenchContext } from './bench-report.js';

/** Marks every stored minute dirty again, as an import leaves them. */
async function markAllDirty(s: StorageService): Promise<number> {
  await s.knex.raw('DELETE FROM rollup_dirty');
  for (const t of ['readings_power', 'readings_energy']) {
    await s.knex.raw(`INSERT INTO rollup_dirty (meter_ref, minute) SELECT DISTINCT meter_ref, ts - (ts % 60000) FROM ${t} WHERE true ON CONFLICT DO NOTHING`);
  }
  const [row] = await s.knex('rollup_dirty').count({ n: '*' }) as Array<{ n: number | string }>;
  return Number(row!.n);
}

/** A digest of every rollup row: the two paths must leave the same bytes. */
async function digest(s: StorageService): Promise<string> {
  const h = createHash('sha256');
  for (const t of ['rollups_power', 'rollups_energy']) {
    const rows = await s.knex(t).select('meter_ref', 'resolution', 'bucket', 'data').orderBy(['meter_ref', 'resolution', 'bucket']) as Array<{ meter_ref: number; resolution: number; bucket: number | string; data: Buffer }>;
    for (const r of rows) h.update(`${r.meter_ref} ${r.resolution} ${Number(r.bucket)} `).update(r.data);
  }
  return h.digest('hex');
}

/** Rolls up dirty minutes with one path for at most `budgetMs`; meter-minutes per second and the loop delay meanwhile. */
async function rate(s: StorageService, mode: RollupMode, budgetMs: number): Promise<{ perSecond: number; done: number; p99: number }> {
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const t0 = performance.now();
  let done = 0;
  for (;;) {
    const batch = await s.queue.serial(() => rollUpBatch(s.store, mode));
    done += batch.done;
    if (!batch.more || performance.now() - t0 > budgetMs) break;
  }
  loop.disable();
  return { perSecond: done / ((performance.now() - t0) / 1000), done, p99: loop.percentile(99) / 1e6 };
}

/**
 * Rolls the stored readings up by ranges (all of them), then marks them dirty
 * again and rolls up minute by minute for a bounded time (the whole would take
 * hours): the digest of the rollup tables after both must be the same, since
 * the minute path rewrote the first minutes with what the range path stored.
 */
export async function rollupRates(ctx: BenchContext, s: StorageService, label: string): Promise<{ rangesPerSecond: number; minutesPerSecond: number }> {
  const minutes = await markAllDirty(s);
  const ranges = await rate(s, 'ranges', Number.POSITIVE_INFINITY);
  const after = await digest(s);
  await markAllDirty(s);
  const byMinute = await rate(s, 'minutes', ctx.smoke ? 3000 : 15_000);
  if (await digest(s) !== after) throw new Error(`${label}: rolling up minute by minute stored other bytes than by ranges`);
  await s.knex.raw('DELETE FROM rollup_dirty');
  const ratio = ranges.perSecond / byMinute.perSecond;
  // Minute by minute costs PostgreSQL round trips per minute: the ratio has a target there. SQLite's calls are
  // in-process, so with one reading a minute ranges save CPU only: its ratio is reported, its event loop has the target.
  const target = s.engine === 'postgres' ? 20 : 0;
  report(ctx, `${label}: rollups by ranges of ${minutes.toLocaleString('en')} meter-minutes (same bytes as minute by minute)`,
    `${Math.round(ranges.perSecond).toLocaleString('en')} meter-minutes/s, event-loop p99 ${ranges.p99.toFixed(1)} ms`,
    `minute by minute ${Math.round(byMinute.perSecond).toLocaleString('en')} meter-minutes/s (${byMinute.done.toLocaleString('en')} done)`,
    `${ratio.toFixed(1)}× (target ${target ? `>= ${target}×, ` : ''}p99 < 50 ms)`, ratio >= target && ranges.p99 < 50);
  return { rangesPerSecond: ranges.perSecond, minutesPerSecond: byMinute.perSecond };
}
