import { FAMILIES, RESOLUTIONS, type DirtyMinute, type PackedRow, type ReadingStore, type Resolution } from './reading-store.js';
import { chunkOf, floorTo, rollUpRanges } from './rollup-ranges.js';
import { aggregateRaw, combine, packAggregates, unpackAggregates } from './rollups.js';
import { TimeSlice } from './time-slice.js';

const MINUTE = RESOLUTIONS['1m'].ms;
const HOUR = RESOLUTIONS['1h'].ms;
const DAY = RESOLUTIONS['1d'].ms;

/**
 * Dirty minutes taken at once by the range path (half on SQLite, whose read of
 * the marks is one synchronous call): about a second of work, after which
 * readings queued for the writer meanwhile are written.
 */
const RANGE_BATCH = 10_000;
/**
 * From this many dirty minutes on, they are rolled up by ranges. Below (the
 * live case: a minute or two per meter since the last run) each minute costs
 * its own few queries, which is less than reading ranges around them.
 */
const RANGE_THRESHOLD = 200;

/** Rebuilds one coarser bucket from the finer rollups inside it. */
async function rebuild(store: ReadingStore, meterRef: number, fine: Resolution, coarse: Resolution, bucket: number): Promise<void> {
  const width = RESOLUTIONS[coarse].ms;
  for (const family of FAMILIES) {
    const parts = await store.rollups(family, meterRef, fine, bucket, bucket + width, 100_000);
    if (parts.length === 0) continue;
    const data = packAggregates(family, combine(family, parts.map((p) => unpackAggregates(family, p.data))));
    await store.writeRollups(family, coarse, [{ meterRef, ts: bucket, data }]);
  }
}

/**
 * Recomputes each dirty minute from its raw rows with its own queries, then
 * the hours and days containing them from the finer rollups. The live path
 * (a few minutes per run), and the reference the range path must match.
 */
export async function rollUpMinutes(store: ReadingStore, dirty: readonly DirtyMinute[], slice: TimeSlice): Promise<void> {
  const hours = new Map<string, { meterRef: number; bucket: number }>();
  for (const d of dirty) {
    await slice.pause();
    for (const family of FAMILIES) {
      const rows = await store.raw(family, d.meterRef, d.minute, d.minute + MINUTE, 100_000);
      // No raw rows (never any, or already past retention): keep whatever rollup exists.
      if (rows.length === 0) continue;
      const previous: PackedRow | undefined = family === 'energy' ? await store.lastBefore(family, d.meterRef, d.minute) : undefined;
      const data = packAggregates(family, aggregateRaw(family, rows, previous));
      await store.writeRollups(family, '1m', [{ meterRef: d.meterRef, ts: d.minute, data }]);
    }
    const hour = floorTo(d.minute, HOUR);
    hours.set(`${d.meterRef}:${hour}`, { meterRef: d.meterRef, bucket: hour });
  }
  const days = new Map<string, { meterRef: number; bucket: number }>();
  for (const h of hours.values()) {
    await slice.pause();
    await rebuild(store, h.meterRef, '1m', '1h', h.bucket);
    const day = floorTo(h.bucket, DAY);
    days.set(`${h.meterRef}:${day}`, { meterRef: h.meterRef, bucket: day });
  }
  for (const d of days.values()) {
    await slice.pause();
    await rebuild(store, d.meterRef, '1h', '1d', d.bucket);
  }
}

/** How dirty minutes are rolled up: `auto` picks by their number; the others force a path (tests, benchmarks). */
export type RollupMode = 'auto' | 'minutes' | 'ranges';

/**
 * Rolls up one batch of dirty minutes and clears their marks: `done` minutes,
 * and `more` when the batch was full (others may be waiting). A few are done
 * minute by minute; many (after a backfill) by ranges, in batches of
 * RANGE_BATCH, so writers queued behind the job get their turn in between.
 * With `before`, only minutes that start before it.
 */
export async function rollUpBatch(store: ReadingStore, mode: RollupMode = 'auto', slice = new TimeSlice(), before?: number): Promise<{ done: number; more: boolean }> {
  const limit = mode === 'minutes' ? 500 : store.engine === 'sqlite' ? RANGE_BATCH / 2 : RANGE_BATCH;
  const dirty = await store.claimDirty(limit, before);
  if (dirty.length === 0) return { done: 0, more: false };
  if (mode === 'ranges' || (mode === 'auto' && dirty.length >= RANGE_THRESHOLD)) await rollUpRanges(store, dirty, slice);
  else await rollUpMinutes(store, dirty, slice);
  // In chunks: clearing thousands of marks at once would hold SQLite's synchronous driver.
  for (let i = 0; i < dirty.length; i += chunkOf(store)) {
    await slice.pause();
    await store.clearDirty(dirty.slice(i, i + chunkOf(store)));
  }
  return { done: dirty.length, more: dirty.length === limit };
}

/**
 * Recomputes the rollups of every dirty minute from raw readings, then the
 * hours and days containing them from the finer rollups. Recomputing (rather
 * than adding to running totals) keeps rollups right when a reading is
 * re-submitted or history arrives late. Returns the number of minutes done.
 *
 * After a backfill this is hundreds of thousands of minutes: the work pauses
 * for a turn of the event loop whenever it held it for a few milliseconds,
 * so polls, requests and the live stream go on meanwhile (SQLite calls are
 * synchronous and would otherwise run back to back).
 */
export async function runRollups(store: ReadingStore, mode: RollupMode = 'auto'): Promise<number> {
  let done = 0;
  const slice = new TimeSlice();
  for (;;) {
    const batch = await rollUpBatch(store, mode, slice);
    done += batch.done;
    if (!batch.more) return done;
  }
}

/** Days to keep per resolution; null keeps forever. */
export interface RetentionPolicy {
  rawDays: number | null;
  minuteDays: number | null;
  hourDays: number | null;
  dayDays: number | null;
}

/**
 * Deletes what is older than the policy allows. The caller brings rollups up
 * to date first (the storage service, with its rollup turn and lock), so
 * deleting raw readings never loses a minute that was not rolled up.
 */
export async function deleteExpired(store: ReadingStore, policy: RetentionPolicy, now = Date.now()): Promise<Record<string, number>> {
  const deleted: Record<string, number> = {};
  const plan: Array<[Resolution | 'raw', number | null]> = [['raw', policy.rawDays], ['1m', policy.minuteDays], ['1h', policy.hourDays], ['1d', policy.dayDays]];
  for (const [resolution, days] of plan) {
    if (days === null) continue;
    for (const family of FAMILIES) {
      deleted[`${family}:${resolution}`] = await store.deleteBefore(family, resolution, now - days * DAY);
    }
  }
  return deleted;
}
