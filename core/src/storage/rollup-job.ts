import { FAMILIES, RESOLUTIONS, type DirtyMinute, type PackedRow, type ReadingStore, type Resolution } from './reading-store.js';
import { aggregateRaw, combine, packAggregates, unpackAggregates } from './rollups.js';
import { TimeSlice } from './time-slice.js';

const MINUTE = RESOLUTIONS['1m'].ms;
const HOUR = RESOLUTIONS['1h'].ms;
const DAY = RESOLUTIONS['1d'].ms;
const floorTo = (ts: number, step: number) => ts - (((ts % step) + step) % step);

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
 * Recomputes the rollups of every dirty minute from raw readings, then the
 * hours and days containing them from the finer rollups. Recomputing (rather
 * than adding to running totals) keeps rollups right when a reading is
 * re-submitted or history arrives late. Returns the number of minutes done.
 *
 * After a backfill this is tens of thousands of minutes: the work pauses for
 * a turn of the event loop whenever it held it for a few milliseconds, so
 * polls, requests and the live stream go on meanwhile (SQLite calls are
 * synchronous and would otherwise run back to back).
 */
export async function runRollups(store: ReadingStore, batch = 500): Promise<number> {
  let done = 0;
  const slice = new TimeSlice();
  for (;;) {
    const dirty = await store.dirty(batch);
    if (dirty.length === 0) return done;
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
    await store.clearDirty(dirty as DirtyMinute[]);
    done += dirty.length;
    if (dirty.length < batch) return done;
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
 * Deletes what is older than the policy allows. Rollups are brought up to date
 * first, so deleting raw readings never loses a minute that was not rolled up.
 */
export async function enforceRetention(store: ReadingStore, policy: RetentionPolicy, now = Date.now()): Promise<Record<string, number>> {
  await runRollups(store);
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
