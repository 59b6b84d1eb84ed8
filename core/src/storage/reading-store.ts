import type { MeasurementFamily } from '@meterhub/sdk';
import type { Engine } from './knex-factory.js';

/** The old system's two reading tables (`readings_power`: instantaneous values, `readings_energy`: counters). */
export const FAMILIES: readonly MeasurementFamily[] = ['power', 'energy'];

/** Rollup resolutions and their bucket width; the code is what the tables store. */
export const RESOLUTIONS = {
  '1m': { code: 1, ms: 60_000 },
  '1h': { code: 2, ms: 3_600_000 },
  '1d': { code: 3, ms: 86_400_000 },
} as const;
export type Resolution = keyof typeof RESOLUTIONS;

/** One stored row: a meter, a timestamp (epoch ms; a bucket start for rollups) and packed values. */
export interface PackedRow {
  meterRef: number;
  ts: number;
  data: Buffer;
}

export interface WriteBatch {
  family: MeasurementFamily;
  rows: PackedRow[];
}

/** A minute whose rollups must be recomputed. */
export interface DirtyMinute {
  meterRef: number;
  minute: number;
  /** PostgreSQL: the claim the rollup job took it under (see ReadingStore.claimDirty). */
  claim?: number;
}

/**
 * Engine-specific access to the readings and rollup tables. Everything above it
 * (ingest, rollups, queries) is shared by SQLite and PostgreSQL.
 */
export interface ReadingStore {
  readonly engine: Engine;
  /**
   * Inserts rows; a row whose (meter, ts) exists is merged (new values replace,
   * others are kept). Marks the touched minutes dirty. One transaction: all or
   * nothing.
   */
  write(batches: readonly WriteBatch[]): Promise<void>;
  /** Rows with from <= ts < to, oldest first, at most `limit`. */
  raw(family: MeasurementFamily, meterRef: number, from: number, to: number, limit: number): Promise<PackedRow[]>;
  /** The newest row strictly before `ts`: the counter value a bucket's delta starts from. */
  lastBefore(family: MeasurementFamily, meterRef: number, ts: number): Promise<PackedRow | undefined>;
  /** The newest row of every meter. */
  latest(family: MeasurementFamily): Promise<PackedRow[]>;
  rollups(family: MeasurementFamily, meterRef: number, resolution: Resolution, from: number, to: number, limit: number): Promise<PackedRow[]>;
  /** Upserts rollup rows (replacing what was there). */
  writeRollups(family: MeasurementFamily, resolution: Resolution, rows: readonly PackedRow[]): Promise<void>;
  /**
   * Takes up to `limit` dirty minutes for the rollup job, ordered by meter and
   * minute; with `before`, only minutes that start before it. On PostgreSQL
   * the marks are claimed: another host's rollup job skips them, and a write
   * that touches a claimed minute meanwhile marks it dirty again, so the job
   * can run beside the writers. On SQLite the job takes the writer's turn and
   * this only reads the marks.
   */
  claimDirty(limit: number, before?: number): Promise<DirtyMinute[]>;
  /** Clears the marks of minutes rolled up, except those written to since they were claimed. */
  clearDirty(minutes: readonly DirtyMinute[]): Promise<void>;
  /**
   * Runs `fn`, a batch of the rollup job, as the only one among the hosts
   * sharing the database (PostgreSQL: an advisory lock), so two hosts never
   * rebuild the same hour from different minutes.
   */
  rollupTurn<T>(fn: () => Promise<T>): Promise<T>;
  /** Deletes rows older than `before` from the raw table or one resolution's rollups; returns the count. */
  deleteBefore(family: MeasurementFamily, resolution: Resolution | 'raw', before: number): Promise<number>;
  close(): Promise<void>;
}

export const rawTable = (f: MeasurementFamily) => `readings_${f}`;
export const rollupTable = (f: MeasurementFamily) => `rollups_${f}`;
export const minuteOf = (ts: number) => ts - (((ts % 60_000) + 60_000) % 60_000);

/**
 * The minutes a batch touches. An energy row also dirties the next minute: its
 * delta starts from this row's value, which matters when history arrives out of
 * order.
 */
export function dirtyMinutes(batches: readonly WriteBatch[]): DirtyMinute[] {
  const seen = new Map<number, Set<number>>();
  for (const b of batches) {
    let lastRef = NaN;
    let lastMinute = NaN;
    let set: Set<number> | undefined;
    for (const r of b.rows) {
      const m = minuteOf(r.ts);
      // Rows arrive grouped by meter and time: skip the common repeat cheaply.
      if (r.meterRef === lastRef && m === lastMinute) continue;
      if (r.meterRef !== lastRef) {
        set = seen.get(r.meterRef);
        if (!set) seen.set(r.meterRef, (set = new Set()));
      }
      lastRef = r.meterRef;
      lastMinute = m;
      set!.add(m);
      if (b.family === 'energy') set!.add(m + 60_000);
    }
  }
  const out: DirtyMinute[] = [];
  for (const [meterRef, minutes] of seen) for (const minute of minutes) out.push({ meterRef, minute });
  // One order for every writer: two hosts marking the same minutes lock them in the same order, never in a cycle.
  return out.sort((a, b) => a.meterRef - b.meterRef || a.minute - b.minute);
}
