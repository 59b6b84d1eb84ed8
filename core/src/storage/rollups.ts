import type { MeasurementFamily } from '@meterhub/sdk';
import { forEachPacked } from './packed-values.js';
import type { PackedRow } from './reading-store.js';

/** Aggregate of one instantaneous measurement over a bucket. */
export interface InstantAggregate {
  min: number;
  max: number;
  sum: number;
  count: number;
}

/** Aggregate of one counter over a bucket: `delta` is the consumption in the bucket, never negative. */
export interface CounterAggregate {
  first: number;
  last: number;
  delta: number;
}

export type Aggregates = Map<number, InstantAggregate | CounterAggregate>;

/**
 * The increase from `a` to `b`. A counter that goes backwards was reset or the
 * meter replaced; how much was used across that moment cannot be known, so it
 * counts as nothing rather than as a negative or a made-up number.
 */
export const increase = (a: number, b: number): number => (b >= a ? b - a : 0);

/**
 * Aggregates raw rows of one bucket. For counters, `previous` is the last raw
 * row before the bucket: the increase from it to the first row belongs to this
 * bucket, so consecutive buckets add up to the whole consumption.
 */
export function aggregateRaw(family: MeasurementFamily, rows: readonly PackedRow[], previous?: PackedRow): Aggregates {
  const out: Aggregates = new Map();
  if (family === 'power') {
    for (const row of rows) {
      forEachPacked(row.data, (code, v) => {
        const a = out.get(code) as InstantAggregate | undefined;
        if (!a) out.set(code, { min: v, max: v, sum: v, count: 1 });
        else {
          if (v < a.min) a.min = v;
          if (v > a.max) a.max = v;
          a.sum += v;
          a.count++;
        }
      });
    }
    return out;
  }
  const last = new Map<number, number>();
  if (previous) forEachPacked(previous.data, (code, v) => last.set(code, v));
  for (const row of rows) {
    forEachPacked(row.data, (code, v) => {
      const a = out.get(code) as CounterAggregate | undefined;
      const before = last.get(code);
      const inc = before === undefined ? 0 : increase(before, v);
      if (!a) out.set(code, { first: v, last: v, delta: inc });
      else {
        a.last = v;
        a.delta += inc;
      }
      last.set(code, v);
    });
  }
  return out;
}

/** Combines finer buckets (minutes into an hour, hours into a day), oldest first. */
export function combine(family: MeasurementFamily, parts: readonly Aggregates[]): Aggregates {
  const out: Aggregates = new Map();
  for (const part of parts) {
    for (const [code, agg] of part) {
      const o = out.get(code);
      if (family === 'power') {
        const a = agg as InstantAggregate;
        const b = o as InstantAggregate | undefined;
        if (!b) out.set(code, { ...a });
        else {
          b.min = Math.min(b.min, a.min);
          b.max = Math.max(b.max, a.max);
          b.sum += a.sum;
          b.count += a.count;
        }
      } else {
        const a = agg as CounterAggregate;
        const b = o as CounterAggregate | undefined;
        if (!b) out.set(code, { ...a });
        else {
          b.last = a.last;
          b.delta += a.delta;
        }
      }
    }
  }
  return out;
}

/** Rollup rows store per measurement: code (u16) then 4 float64 (min, max, sum, count) or 3 (first, last, delta). */
export function packAggregates(family: MeasurementFamily, aggs: Aggregates): Buffer {
  const n = family === 'power' ? 4 : 3;
  const buf = Buffer.allocUnsafe(aggs.size * (2 + 8 * n));
  let o = 0;
  for (const [code, a] of [...aggs].sort((x, y) => x[0] - y[0])) {
    buf.writeUInt16BE(code, o);
    const values = family === 'power'
      ? [(a as InstantAggregate).min, (a as InstantAggregate).max, (a as InstantAggregate).sum, (a as InstantAggregate).count]
      : [(a as CounterAggregate).first, (a as CounterAggregate).last, (a as CounterAggregate).delta];
    values.forEach((v, i) => buf.writeDoubleBE(v, o + 2 + 8 * i));
    o += 2 + 8 * n;
  }
  return buf;
}

export function unpackAggregates(family: MeasurementFamily, buf: Uint8Array): Aggregates {
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const n = family === 'power' ? 4 : 3;
  const out: Aggregates = new Map();
  for (let o = 0; o + 2 + 8 * n <= b.length; o += 2 + 8 * n) {
    const v = (i: number) => b.readDoubleBE(o + 2 + 8 * i);
    out.set(b.readUInt16BE(o), family === 'power' ? { min: v(0), max: v(1), sum: v(2), count: v(3) } : { first: v(0), last: v(1), delta: v(2) });
  }
  return out;
}

/** Calls `fn` with each counter's delta of an energy rollup blob, straight from the bytes (hot loops over many rows). */
export function forEachCounterDelta(b: Buffer, fn: (code: number, delta: number) => void): void {
  for (let o = 0; o + 26 <= b.length; o += 26) fn(b.readUInt16BE(o), b.readDoubleBE(o + 18));
}
