import type { MeasurementFamily } from '@meterhub/sdk';
import { FAMILIES, RESOLUTIONS, type DirtyMinute, type PackedRow, type ReadingStore, type Resolution } from './reading-store.js';
import { aggregateRaw, combine, packAggregates, unpackAggregates } from './rollups.js';
import type { TimeSlice } from './time-slice.js';

const MINUTE = RESOLUTIONS['1m'].ms;
const HOUR = RESOLUTIONS['1h'].ms;
const DAY = RESOLUTIONS['1d'].ms;
export const floorTo = (ts: number, step: number) => ts - (((ts % step) + step) % step);

/** Rows per range read: a few milliseconds of decoding on the synchronous SQLite driver. */
const READ_CHUNK = 2000;
/** Rollup rows per write. */
const WRITE_CHUNK = 1000;
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
 * Stored rows of [from, to) read in chunks, handed out grouped by bucket
 * (`width`), oldest first: one query per chunk rather than per bucket.
 */
async function* groups(read: (from: number, limit: number) => Promise<PackedRow[]>, from: number, width: number, slice: TimeSlice): AsyncGenerator<{ bucket: number; rows: PackedRow[] }> {
  let current: { bucket: number; rows: PackedRow[] } | undefined;
  for (let cursor = from; ;) {
    await slice.pause();
    const rows = await read(cursor, READ_CHUNK);
    for (const row of rows) {
      const bucket = floorTo(row.ts, width);
      if (current?.bucket !== bucket) {
        if (current) yield current;
        current = { bucket, rows: [] };
      }
      current.rows.push(row);
    }
    if (rows.length < READ_CHUNK) break;
    cursor = rows[rows.length - 1]!.ts + 1;
  }
  if (current) yield current;
}

/** Collects rollup rows and writes them in multi-row chunks. */
class RollupWriter {
  #rows: PackedRow[] = [];
  written = 0;

  constructor(private readonly store: ReadingStore, private readonly family: MeasurementFamily, private readonly resolution: Resolution, private readonly slice: TimeSlice) {}

  async add(row: PackedRow): Promise<void> {
    this.#rows.push(row);
    if (this.#rows.length >= WRITE_CHUNK) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.#rows.length === 0) return;
    await this.slice.pause();
    const rows = this.#rows;
    this.#rows = [];
    await this.store.writeRollups(this.family, this.resolution, rows);
    this.written += rows.length;
  }
}

/**
 * The minute rollups of a span from its raw rows in one pass. A counter's
 * delta starts from the newest raw row before its minute: the last row of the
 * minute before in the pass, or for the first one a single lookup.
 */
async function minutesOf(store: ReadingStore, family: MeasurementFamily, span: Span, out: RollupWriter, slice: TimeSlice): Promise<void> {
  let previous: PackedRow | undefined;
  let first = true;
  const read = (from: number, limit: number) => store.raw(family, span.meterRef, from, span.to, limit);
  for await (const g of groups(read, span.from, MINUTE, slice)) {
    if (first && family === 'energy') previous = await store.lastBefore(family, span.meterRef, g.bucket);
    first = false;
    if (span.buckets.has(g.bucket)) await out.add({ meterRef: span.meterRef, ts: g.bucket, data: packAggregates(family, aggregateRaw(family, g.rows, previous)) });
    previous = g.rows[g.rows.length - 1];
  }
}

/** The coarser rollups of a span from the finer rollups inside each bucket. */
async function coarserOf(store: ReadingStore, family: MeasurementFamily, fine: Resolution, span: Span, width: number, out: RollupWriter, slice: TimeSlice): Promise<void> {
  const read = (from: number, limit: number) => store.rollups(family, span.meterRef, fine, from, span.to, limit);
  for await (const g of groups(read, span.from, width, slice)) {
    if (!span.buckets.has(g.bucket)) continue;
    const data = packAggregates(family, combine(family, g.rows.map((p) => unpackAggregates(family, p.data))));
    await out.add({ meterRef: span.meterRef, ts: g.bucket, data });
  }
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
  for (const family of FAMILIES) {
    const out = new RollupWriter(store, family, '1m', slice);
    for (const [meterRef, list] of minutes) for (const span of spans(meterRef, list, MINUTE)) await minutesOf(store, family, span, out, slice);
    await out.flush();
    const hourly = new RollupWriter(store, family, '1h', slice);
    for (const [meterRef, list] of hours) for (const span of spans(meterRef, list, HOUR)) await coarserOf(store, family, '1m', span, HOUR, hourly, slice);
    await hourly.flush();
    const daily = new RollupWriter(store, family, '1d', slice);
    for (const [meterRef, list] of days) for (const span of spans(meterRef, list, DAY)) await coarserOf(store, family, '1h', span, DAY, daily, slice);
    await daily.flush();
  }
}
