import { asFloat32Decimal, counterResolution, float32Decimal, MeterhubError, roundToStep, type HistoryPointView, type MeasurementFamily } from '@meterhub/sdk';
import { TimeSlice } from './time-slice.js';
import type { MeasurementCodes } from './measurement-codes.js';
import { forEachPacked } from './packed-values.js';
import { RESOLUTIONS, type PackedRow, type ReadingStore, type Resolution } from './reading-store.js';
import { unpackAggregates, type CounterAggregate, type InstantAggregate } from './rollups.js';
import { queryPeriodCosts, type PeriodCost } from './cost-queries.js';
import type { TariffPlan } from '../tariffs/tariff-plan.js';
import { isValidTimeZone, isoInZone, nextPeriod, offsetAt, startOfPeriod, type Period } from './time-zones.js';

/** The most rows one query reads; asking for more gets `truncated: true`. */
export const MAX_ROWS = 100_000;
/** Raw rows read per query of a raw history: small enough to decode within a slice of the event loop. */
const RAW_CHUNK = 5000;

export interface HistoryRequest {
  meterRef: number;
  family: MeasurementFamily;
  from: number;
  to: number;
  resolution: 'auto' | 'raw' | Resolution;
  /** Roughly how many points the caller wants (auto resolution); default 1000. */
  points?: number;
  measurements?: readonly string[];
  /** IANA zone whose local midnights day buckets start at; default UTC. */
  tz?: string;
}

/** A point of history, as plugins see it (the SDK's HistoryPointView). */
export type HistoryPoint = HistoryPointView;

export interface HistoryResult {
  /** The stored rows the answer was made from: raw rows or a rollup. */
  resolution: 'raw' | Resolution;
  /**
   * The width of one point: 'raw', or a duration such as '1m', '45m', '9h',
   * '1d' (days are local days of `tz`, 23 to 25 hours across DST changes).
   */
  bucket: string;
  /** The nominal width in ms (a local day counts 86 400 000); null for raw rows. */
  bucketMs: number | null;
  points: HistoryPoint[];
  truncated: boolean;
}

/** '45m', '9h', '2d': the shortest exact label of a width. */
export function bucketLabel(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000]] as const) if (ms % size === 0) return `${ms / size}${unit}`;
  return `${ms / 1000}s`;
}

/** Energy deltas rounded to what the counter resolves at its magnitude: no float noise in sums. */
function roundDelta(delta: number, last: number): number {
  return roundToStep(delta, counterResolution(last, Math.fround(last) === last));
}

/** The coarsest resolution that still gives `points` buckets over the span; raw when none does. */
export function chooseResolution(from: number, to: number, points: number): 'raw' | Resolution {
  for (const r of ['1d', '1h', '1m'] as const) if ((to - from) / RESOLUTIONS[r].ms >= points) return r;
  return 'raw';
}

function rawPoint(row: PackedRow, codes: MeasurementCodes, wanted?: ReadonlySet<string>): HistoryPoint {
  const values: Record<string, number> = {};
  forEachPacked(row.data, (code, v) => {
    const id = codes.id(code);
    if (id && (!wanted || wanted.has(id))) values[id] = float32Decimal(v);
  });
  return { ts: row.ts, values };
}

function rollupPoint(family: MeasurementFamily, ts: number, aggs: ReturnType<typeof unpackAggregates>, codes: MeasurementCodes, wanted?: ReadonlySet<string>): HistoryPoint {
  const p: HistoryPoint = family === 'power' ? { ts, values: {}, min: {}, max: {} } : { ts, values: {}, delta: {} };
  for (const [code, a] of aggs) {
    const id = codes.id(code);
    if (!id || (wanted && !wanted.has(id))) continue;
    if (family === 'power') {
      const i = a as InstantAggregate;
      p.values[id] = asFloat32Decimal(i.sum / i.count);
      p.min![id] = float32Decimal(i.min);
      p.max![id] = float32Decimal(i.max);
    } else {
      const c = a as CounterAggregate;
      p.values[id] = float32Decimal(c.last);
      p.delta![id] = roundDelta(c.delta, c.last);
    }
  }
  return p;
}

export interface PagesRequest {
  meterRef: number;
  family: MeasurementFamily;
  from: number;
  to: number;
  resolution: 'raw' | Resolution;
  measurements?: readonly string[];
  /** Rows per page; default 5000, at most MAX_ROWS. */
  pageSize?: number;
}

/** A page of history as columns: one array per measurement, NaN where a row has no value. */
export interface HistoryPage {
  length: number;
  ts: Float64Array;
  values: Record<string, Float64Array>;
}

/**
 * Column arrays of one page size, handed out again once the consumer has
 * moved on to the next page: an export of a million rows then allocates its
 * arrays once instead of per page (their memory, off the V8 heap, was freed
 * only by full collections and made the host's RSS climb during exports).
 */
class ArrayPool {
  readonly #free: Float64Array[] = [];
  readonly #lent: Float64Array[] = [];

  constructor(readonly size: number) {}

  take(): Float64Array {
    const base = this.#free.pop() ?? new Float64Array(this.size);
    this.#lent.push(base);
    return base;
  }

  /** Everything lent so far may be reused. */
  reclaim(): void {
    this.#free.push(...this.#lent.splice(0));
  }
}

/**
 * Decodes rows into columns straight from their blobs: no object per row
 * outlives its page, so an export of millions of rows leaves little for the
 * collector. Raw rows hold the value; rollups
 * the mean (instant) or the last value (counter).
 */
class PageBuilder {
  readonly ts: Float64Array;
  readonly #byCode = new Map<number, Float64Array | null>();
  readonly #values: Record<string, Float64Array> = {};
  readonly #stride: number;
  n = 0;

  constructor(private readonly family: MeasurementFamily, private readonly codes: MeasurementCodes, private readonly wanted: ReadonlySet<string> | undefined, private readonly arrays: ArrayPool) {
    this.ts = arrays.take();
    this.#stride = 2 + 8 * (family === 'power' ? 4 : 3);
  }

  #column(code: number): Float64Array | null {
    let c = this.#byCode.get(code);
    if (c === undefined) {
      const id = this.codes.id(code);
      c = id && (!this.wanted || this.wanted.has(id)) ? (this.#values[id] = this.arrays.take().fill(Number.NaN)) : null;
      this.#byCode.set(code, c);
    }
    return c;
  }

  addRaw = (ts: number, data: Buffer): void => {
    const r = this.n++;
    this.ts[r] = ts;
    forEachPacked(data, (code, v) => {
      const c = this.#column(code);
      if (c) c[r] = v;
    });
  };

  addRollup(ts: number, b: Buffer): void {
    const r = this.n++;
    this.ts[r] = ts;
    for (let o = 0; o + this.#stride <= b.length; o += this.#stride) {
      const c = this.#column(b.readUInt16BE(o));
      if (c) c[r] = this.family === 'power' ? b.readDoubleBE(o + 18) / b.readDoubleBE(o + 26) : b.readDoubleBE(o + 10);
    }
  }

  finish(): HistoryPage {
    const n = this.n;
    const values: Record<string, Float64Array> = {};
    for (const [id, column] of Object.entries(this.#values)) values[id] = column.subarray(0, n);
    return { length: n, ts: this.ts.subarray(0, n), values };
  }
}

async function readPage(store: ReadingStore, codes: MeasurementCodes, req: PagesRequest, from: number, wanted: ReadonlySet<string> | undefined, arrays: ArrayPool): Promise<HistoryPage> {
  const page = new PageBuilder(req.family, codes, wanted, arrays);
  if (req.resolution === 'raw') for (const row of await store.raw(req.family, req.meterRef, from, req.to, arrays.size)) page.addRaw(row.ts, row.data);
  else for (const row of await store.rollups(req.family, req.meterRef, req.resolution, from, req.to, arrays.size)) page.addRollup(row.ts, row.data);
  return page.finish();
}

/**
 * History in pages, oldest first, each one query: for exports of any length.
 * Memory is one page; a consumer that stops iterating stops the queries. A
 * page's arrays are reused for the next one: they are valid until the
 * consumer asks for the next page.
 */
export async function* queryPages(store: ReadingStore, codes: MeasurementCodes, req: PagesRequest): AsyncGenerator<HistoryPage> {
  const pageSize = Math.min(Math.max(1, Math.floor(req.pageSize ?? 5000)), MAX_ROWS);
  const wanted = req.measurements?.length ? new Set(req.measurements) : undefined;
  const arrays = new ArrayPool(pageSize);
  let cursor = req.from;
  while (cursor < req.to) {
    arrays.reclaim();
    const page = await readPage(store, codes, req, cursor, wanted, arrays);
    if (page.length === 0) return;
    // Only the columns live on while the consumer awaits: row objects held
    // across the yield would survive into the old generation as garbage.
    yield page;
    if (page.length < pageSize) return;
    cursor = page.ts[page.length - 1]! + 1;
  }
}

/**
 * History of one meter: raw rows or rollups, then, when that is still many
 * more rows than asked for, grouped into about `points` buckets aligned to the
 * resolution (a year of hourly rollups for 1000 points becomes 9-hour buckets).
 * Day buckets in a zone other than UTC are local days, folded from hourly
 * rollups (minute rollups in zones with a non-whole-hour offset).
 */
export async function queryHistory(store: ReadingStore, codes: MeasurementCodes, req: HistoryRequest): Promise<HistoryResult> {
  const points = req.points ?? 1000;
  const tz = req.tz ?? 'UTC';
  if (!isValidTimeZone(tz)) throw new MeterhubError('METERHUB_ERR_VALIDATION', `unknown time zone "${tz}"`, { details: [{ path: '?tz', message: 'is not a known IANA time zone' }] });
  const resolution = req.resolution === 'auto' ? chooseResolution(req.from, req.to, points) : req.resolution;
  const wanted = req.measurements?.length ? new Set(req.measurements) : undefined;
  if (resolution === 'raw') {
    // Read and decoded in chunks with a turn of the event loop between them: 100,000 rows at once would hold it.
    const points: HistoryPointView[] = [];
    const slice = new TimeSlice();
    let from = req.from;
    let truncated = false;
    for (;;) {
      await slice.pause();
      const rows = await store.raw(req.family, req.meterRef, from, req.to, RAW_CHUNK);
      for (const r of rows) {
        if (points.length === MAX_ROWS) {
          truncated = true;
          break;
        }
        points.push(rawPoint(r, codes, wanted));
      }
      if (truncated || rows.length < RAW_CHUNK) break;
      from = rows[rows.length - 1]!.ts + 1;
    }
    return { resolution, bucket: 'raw', bucketMs: null, points, truncated };
  }
  const step = RESOLUTIONS[resolution].ms;
  const localDays = resolution === '1d' && !utcAligned(req.from, req.to, tz, RESOLUTIONS['1d'].ms);
  const read: Resolution = localDays ? (utcAligned(req.from, req.to, tz, RESOLUTIONS['1h'].ms) ? '1h' : '1m') : resolution;
  const first = localDays ? startOfPeriod(req.from, 'day', tz) : req.from;
  const rows = await store.rollups(req.family, req.meterRef, read, first, req.to, MAX_ROWS + 1);
  const truncated = rows.length > MAX_ROWS;
  const used = rows.slice(0, MAX_ROWS);
  const span = req.to - req.from;
  const bucketCount = Math.ceil(span / step);
  const groupWidth = req.resolution === 'auto' && bucketCount > points * 1.5 ? Math.ceil(span / points / step) * step : step;
  const described = { resolution, bucket: bucketLabel(groupWidth), bucketMs: groupWidth, truncated };
  if (localDays) {
    const days = groupWidth / RESOLUTIONS['1d'].ms;
    return { ...described, points: groupRollups(req.family, used, localDayBuckets(first, req.to, days, tz), codes, wanted) };
  }
  if (groupWidth === step) {
    return { ...described, points: used.map((r) => rollupPoint(req.family, r.ts, unpackAggregates(req.family, r.data), codes, wanted)) };
  }
  return { ...described, points: groupRollups(req.family, used, (ts) => req.from + Math.floor((ts - req.from) / groupWidth) * groupWidth, codes, wanted) };
}

/** True when the zone's offset is a whole multiple of `unit` over the range (UTC days are its days). */
function utcAligned(from: number, to: number, tz: string, unit: number): boolean {
  return [from, to].every((t) => offsetAt(t, tz) % unit === 0);
}

/** Bucket starts of `days` local days each from `first`; rows are sorted, so a moving pointer suffices. */
function localDayBuckets(first: number, to: number, days: number, tz: string): (ts: number) => number {
  let start = first;
  let end = first;
  for (let i = 0; i < days; i++) end = nextPeriod(end, 'day', tz);
  return (ts) => {
    while (ts >= end && end < to + RESOLUTIONS['1d'].ms * days) {
      start = end;
      for (let i = 0; i < days; i++) end = nextPeriod(end, 'day', tz);
    }
    return start;
  };
}

/**
 * Folds rollup rows into buckets of `width` straight from their blobs: one
 * small array per bucket and measurement, no per-row maps. A year of hourly
 * rows for ~1000 points is 8760 rows to fold.
 */
function groupRollups(family: MeasurementFamily, rows: readonly PackedRow[], bucketOf: (ts: number) => number, codes: MeasurementCodes, wanted?: ReadonlySet<string>): HistoryPoint[] {
  const n = family === 'power' ? 4 : 3;
  const stride = 2 + 8 * n;
  const groups = new Map<number, Map<number, Float64Array>>();
  for (const row of rows) {
    const g = bucketOf(row.ts);
    let acc = groups.get(g);
    if (!acc) groups.set(g, (acc = new Map()));
    const b = row.data;
    for (let o = 0; o + stride <= b.length; o += stride) {
      const code = b.readUInt16BE(o);
      const x0 = b.readDoubleBE(o + 2);
      const x1 = b.readDoubleBE(o + 10);
      const x2 = b.readDoubleBE(o + 18);
      let a = acc.get(code);
      if (!a) {
        a = new Float64Array(n);
        if (family === 'power') a.set([x0, x1, x2, b.readDoubleBE(o + 26)]);
        else a.set([x0, x1, x2]);
        acc.set(code, a);
      } else if (family === 'power') {
        if (x0 < a[0]!) a[0] = x0;
        if (x1 > a[1]!) a[1] = x1;
        a[2]! += x2;
        a[3]! += b.readDoubleBE(o + 26);
      } else {
        a[1] = x1;
        a[2]! += x2;
      }
    }
  }
  const points: HistoryPoint[] = [];
  for (const [ts, acc] of groups) {
    const p: HistoryPoint = family === 'power' ? { ts, values: {}, min: {}, max: {} } : { ts, values: {}, delta: {} };
    for (const [code, a] of acc) {
      const id = codes.id(code);
      if (!id || (wanted && !wanted.has(id))) continue;
      if (family === 'power') {
        p.values[id] = asFloat32Decimal(a[2]! / a[3]!);
        p.min![id] = float32Decimal(a[0]!);
        p.max![id] = float32Decimal(a[1]!);
      } else {
        p.values[id] = float32Decimal(a[1]!);
        p.delta![id] = roundDelta(a[2]!, a[1]!);
      }
    }
    points.push(p);
  }
  return points;
}

export interface ConsumptionPeriod {
  start: string;
  end: string;
  startMs: number;
  /** Consumption (counter increase) per counter measurement within the period, rounded to the counter's resolution. */
  values: Record<string, number>;
  /**
   * True when the period is covered only in part: the requested range starts
   * after its start or ends before its end, or stored data is missing at its
   * start or end (the meter was added, or offline, then).
   */
  partial: boolean;
  /** What the period cost, when the meter has a tariff. */
  cost?: PeriodCost;
}

/**
 * Consumption per local day, week or month, DST-correct: hourly rollups are
 * summed between local period boundaries (a spring-forward day has 23 hours).
 * Zones with a non-whole-hour offset are summed from minute rollups. Only
 * rollup buckets that overlap [from, to) count. With a tariff, each period
 * also gets its cost, priced from the minute rollups (cost-queries.ts).
 */
export async function queryConsumption(
  store: ReadingStore, codes: MeasurementCodes,
  req: { meterRef: number; period: Period; tz: string; from: number; to: number; measurements?: readonly string[]; tariff?: TariffPlan },
): Promise<ConsumptionPeriod[]> {
  if (!isValidTimeZone(req.tz)) throw new MeterhubError('METERHUB_ERR_VALIDATION', `unknown time zone "${req.tz}"`, { details: [{ path: '?tz', message: 'is not a known IANA time zone' }] });
  const wanted = req.measurements?.length ? new Set(req.measurements) : undefined;
  const first = startOfPeriod(req.from, req.period, req.tz);
  const resolution: Resolution = utcAligned(first, req.to, req.tz, RESOLUTIONS['1h'].ms) ? '1h' : '1m';
  const step = RESOLUTIONS[resolution].ms;
  const readFrom = Math.max(first, req.from - (((req.from % step) + step) % step));
  const rows = await store.rollups('energy', req.meterRef, resolution, readFrom, req.to, MAX_ROWS);
  const out: ConsumptionPeriod[] = [];
  let i = 0;
  for (let start = first; start < req.to; start = nextPeriod(start, req.period, req.tz)) {
    const end = nextPeriod(start, req.period, req.tz);
    const sums: Record<string, number> = {};
    const magnitude: Record<string, number> = {};
    const float32: Record<string, boolean> = {};
    let firstRow = Number.POSITIVE_INFINITY;
    let lastRow = Number.NEGATIVE_INFINITY;
    for (; i < rows.length && rows[i]!.ts < end; i++) {
      const ts = rows[i]!.ts;
      firstRow = Math.min(firstRow, ts);
      lastRow = Math.max(lastRow, ts);
      for (const [code, a] of unpackAggregates('energy', rows[i]!.data)) {
        const id = codes.id(code);
        if (!id || (wanted && !wanted.has(id))) continue;
        const c = a as CounterAggregate;
        sums[id] = (sums[id] ?? 0) + c.delta;
        magnitude[id] = Math.max(magnitude[id] ?? 0, Math.abs(c.last));
        float32[id] = (float32[id] ?? true) && Math.fround(c.last) === c.last;
      }
    }
    const values = Object.fromEntries(Object.entries(sums).map(([id, v]) => [id, roundToStep(v, counterResolution(magnitude[id]!, float32[id]!))]));
    const partial = start < req.from || end > req.to || firstRow >= start + step || lastRow < end - step;
    out.push({ start: isoInZone(start, req.tz), end: isoInZone(end, req.tz), startMs: start, values, partial });
    if (out.length > 5000) break;
  }
  if (req.tariff) {
    const periods = out.map((p, k) => ({ startMs: p.startMs, endMs: out[k + 1]?.startMs ?? nextPeriod(p.startMs, req.period, req.tz) }));
    const costs = await queryPeriodCosts(store, codes, { meterRef: req.meterRef, periods, from: req.from, to: req.to, tz: req.tz, tariff: req.tariff });
    costs.forEach((c, k) => (out[k]!.cost = c));
  }
  return out;
}
