import type { MeasurementFamily } from '@meterhub/sdk';
import { FAMILIES, RESOLUTIONS, type DirtyMinute, type PackedRow, type ReadingStore, type Resolution } from './reading-store.js';
import { aggregateRaw, combine, packAggregates, unpackAggregates } from './rollups.js';
import type { TimeSlice } from './time-slice.js';

const MINUTE = RESOLUTIONS['1m'].ms;
const HOUR = RESOLUTIONS['1h'].ms;
const DAY = RESOLUTIONS['1d'].ms;
export const floorTo = (ts: number, step: number) => ts - (((ts % step) + step) % step);

/**
 * Rows per range read and rollup rows per write: on the synchronous SQLite
 * driver a few milliseconds of work; on PostgreSQL, whose calls leave the
 * event loop free, larger to save round trips.
 */
export const chunkOf = (store: ReadingStore) => (store.engine === 'sqlite' ? 500 : 2000);
/**
 * Buckets of one meter closer than this are read as one range: reading the few
 * rows between them costs less than another query. Farther apart (a live
 * minute here and there), each is read on its own.
 */
const JOIN_GAP = 60;

/** A range [from, to) of one meter, and the bucket starts inside it to recompute. */
interface Span {
  meterRef: number;
  from: number;
  to: number;
  buckets: Set<number>;
}

/** Groups sorted buckets of one meter into spans, joining those less than JOIN_GAP widths apart. */
function spans(meterRef: number, buckets: readonly number[], width: number): Span[] {
  const out: Span[] = [];
  let span: Span | undefined;
  for (const b of buckets) {
    if (!span || b - span.to >= JOIN_GAP * width) out.push((span = { meterRef, from: b, to: b + width, buckets: new Set() }));
    span.to = b + width;
    span.buckets.add(b);
  }
  return out;
}

/**
 * Stored rows from `from` on, read in chunks and handed to `each` grouped by
 * bucket (`width`), oldest first: one query per chunk rather than per bucket.
 * A bucket cut by a chunk's end is completed from the next chunk.
 */
async function scan(read: (from: number, limit: number) => Promise<PackedRow[]>, from: number, width: number, out: RollupWriter, each: (bucket: number, rows: PackedRow[]) => void): Promise<void> {
  let bucket = Number.NaN;
  let group: PackedRow[] = [];
  for (let cursor = from; ;) {
    const rows = await read(cursor, out.chunk);
    for (let i = 0; i < rows.length; i++) {
      // Folding a chunk is thousands of buckets: the event loop gets its turns in between.
      if ((i & 63) === 0) await out.slice.pause();
      const row = rows[i]!;
      const b = floorTo(row.ts, width);
      if (b !== bucket) {
        if (group.length) each(bucket, group);
        bucket = b;
        group = [];
      }
      group.push(row);
    }
    // Written as it goes, which is also where the event loop gets its turns.
    await out.flushFull();
    if (rows.length < out.chunk) break;
    cursor = rows[rows.length - 1]!.ts + 1;
  }
  if (group.length) each(bucket, group);
}

/**
 * Collects rollup rows and writes them in multi-row chunks, one write in
 * flight while the next chunk is read and folded (PostgreSQL; SQLite's
 * writes are done when they return).
 */
class RollupWriter {
  readonly chunk: number;
  #rows: PackedRow[] = [];
  #inFlight: Promise<void> = Promise.resolve();

  constructor(private readonly store: ReadingStore, private readonly family: MeasurementFamily, private readonly resolution: Resolution, readonly slice: TimeSlice) {
    this.chunk = chunkOf(store);
  }

  add(row: PackedRow): void {
    this.#rows.push(row);
  }

  /** Writes when a chunk's worth is waiting; pauses for the event loop when the slice is used up. */
  async flushFull(): Promise<void> {
    if (this.#rows.length >= this.chunk) await this.#write();
    await this.slice.pause();
  }

  /** Writes what is left and waits for every write: the rows are stored when it resolves. */
  async flush(): Promise<void> {
    if (this.#rows.length) await this.#write();
    await this.#inFlight;
  }

  async #write(): Promise<void> {
    // The previous write first: one at a time, and its failure surfaces here.
    await this.#inFlight;
    await this.slice.pause();
    const rows = this.#rows;
    this.#rows = [];
    this.#inFlight = this.store.writeRollups(this.family, this.resolution, rows);
    this.#inFlight.catch(() => undefined);
  }
}

/**
 * The minute rollups of a span from its raw rows in one pass. A counter's
 * delta starts from the newest raw row before its minute: the last row of the
 * minute before in the pass, or for the first one a single lookup.
 */
async function minutesOf(store: ReadingStore, family: MeasurementFamily, span: Span, out: RollupWriter): Promise<void> {
  let previous = family === 'energy' ? await store.lastBefore(family, span.meterRef, span.from) : undefined;
  const read = (from: number, limit: number) => store.raw(family, span.meterRef, from, span.to, limit);
  await scan(read, span.from, MINUTE, out, (bucket, rows) => {
    if (span.buckets.has(bucket)) out.add({ meterRef: span.meterRef, ts: bucket, data: packAggregates(family, aggregateRaw(family, rows, previous)) });
    previous = rows[rows.length - 1];
  });
}

/** The coarser rollups of a span from the finer rollups inside each bucket. */
async function coarserOf(store: ReadingStore, family: MeasurementFamily, fine: Resolution, span: Span, width: number, out: RollupWriter): Promise<void> {
  const read = (from: number, limit: number) => store.rollups(family, span.meterRef, fine, from, span.to, limit);
  await scan(read, span.from, width, out, (bucket, rows) => {
    if (span.buckets.has(bucket)) out.add({ meterRef: span.meterRef, ts: bucket, data: packAggregates(family, combine(family, rows.map((p) => unpackAggregates(family, p.data)))) });
  });
}

/** Sorted distinct bucket starts of `width` per meter. */
function bucketsByMeter(items: Iterable<{ meterRef: number; ts: number }>, width: number): Map<number, number[]> {
  const sets = new Map<number, Set<number>>();
  for (const i of items) {
    let s = sets.get(i.meterRef);
    if (!s) sets.set(i.meterRef, (s = new Set()));
    s.add(floorTo(i.ts, width));
  }
  return new Map([...sets].map(([m, s]) => [m, [...s].sort((a, b) => a - b)]));
}

/**
 * Rolls up many dirty minutes by ranges (after an import, a backfill or an
 * uplink replay): per meter and family, the raw rows of each touched range are
 * read in chunks and folded minute by minute in one pass, rollup rows are
 * written in multi-row chunks, then the touched hours are rebuilt from the
 * minute rollups and the touched days from the hourly ones, the same way.
 * Every bucket is computed with the same functions, from the same rows in the
 * same order, as `rollUpMinutes` does one query at a time: the bytes stored
 * are the same.
 */
export async function rollUpRanges(store: ReadingStore, dirty: readonly DirtyMinute[], slice: TimeSlice): Promise<void> {
  const minutes = bucketsByMeter(dirty.map((d) => ({ meterRef: d.meterRef, ts: d.minute })), MINUTE);
  const hours = new Map([...minutes].map(([m, list]) => [m, [...new Set(list.map((t) => floorTo(t, HOUR)))]]));
  const days = new Map([...hours].map(([m, list]) => [m, [...new Set(list.map((t) => floorTo(t, DAY)))]]));
  // One family after the other: two passes at once would run their slices back to back within
  // one turn of the event loop (SQLite's calls are synchronous), and did not roll up faster on PostgreSQL.
  for (const family of FAMILIES) {
    const out = new RollupWriter(store, family, '1m', slice);
    for (const [meterRef, list] of minutes) for (const span of spans(meterRef, list, MINUTE)) await minutesOf(store, family, span, out);
    await out.flush();
    const hourly = new RollupWriter(store, family, '1h', slice);
    for (const [meterRef, list] of hours) for (const span of spans(meterRef, list, HOUR)) await coarserOf(store, family, '1m', span, HOUR, hourly);
    await hourly.flush();
    const daily = new RollupWriter(store, family, '1d', slice);
    for (const [meterRef, list] of days) for (const span of spans(meterRef, list, DAY)) await coarserOf(store, family, '1h', span, DAY, daily);
    await daily.flush();
  }
}
