import type { PeriodCostView } from '@meterhub/sdk';
import { roundMoney, type TariffPlan } from '../tariffs/tariff-plan.js';
import { forEachCounterDelta } from './rollups.js';
import type { MeasurementCodes } from './measurement-codes.js';
import type { ReadingStore } from './reading-store.js';
import { TimeSlice } from './time-slice.js';
import { nextPeriod } from './time-zones.js';

/** What a period cost (the SDK's view: plugins read the same object). */
export type PeriodCost = PeriodCostView;

/** Minute rollups read per query: a month is 44,640 rows per meter. */
const PAGE = 50_000;
const MINUTE = 60_000;
const HOUR = 3_600_000;
const floorTo = (ts: number, step: number) => ts - (((ts % step) + step) % step);

/**
 * Cost per period in one pass over the meter's minute rollups: each minute's
 * counter increase is priced at the window in force at its start in the
 * tariff's zone (never the period total × one price), summed unrounded, and
 * rounded per period. Periods are [start, end) in ms, ascending; only
 * minutes within [from, to) count, like consumption. Hours whose minute
 * rollups are gone (past `retention.minuteDays`) are priced from their hourly
 * rollup, the increase spread evenly over the hour: exact when the windows
 * change on whole hours, as nearly all contracts do.
 */
export async function queryPeriodCosts(
  store: ReadingStore, codes: MeasurementCodes,
  req: { meterRef: number; periods: ReadonlyArray<{ startMs: number; endMs: number }>; from: number; to: number; tz: string; tariff: TariffPlan },
): Promise<PeriodCost[]> {
  const { periods, tariff } = req;
  const importCode = codes.code('importEnergy');
  const exportCode = codes.code('exportEnergy');
  const importCost = new Float64Array(periods.length);
  const exportCredit = new Float64Array(periods.length);
  if (periods.length > 0 && (importCode !== undefined || exportCode !== undefined)) {
    const slice = new TimeSlice();
    const first = periods[0]!.startMs;
    const end = Math.min(req.to, periods[periods.length - 1]!.endMs);
    /** Hours that had minute rollups: the others (past minute retention) are priced from their hourly rollup. */
    const hoursWithMinutes = new Set<number>();
    let p = 0;
    let span = { importPerKWh: 0, feedInPerKWh: 0, until: Number.NEGATIVE_INFINITY };
    let cursor = Math.max(floorTo(req.from, MINUTE), first);
    while (cursor < end) {
      await slice.pause();
      const rows = await store.rollups('energy', req.meterRef, '1m', cursor, end, PAGE);
      for (const row of rows) {
        const ts = row.ts;
        while (p < periods.length && ts >= periods[p]!.endMs) p++;
        if (p === periods.length) break;
        if (ts < periods[p]!.startMs) continue;
        hoursWithMinutes.add(floorTo(ts, HOUR));
        if (ts >= span.until) span = tariff.pricesAt(ts);
        forEachCounterDelta(row.data, (code, delta) => {
          if (code === importCode) importCost[p]! += delta * span.importPerKWh;
          else if (code === exportCode) exportCredit[p]! += delta * span.feedInPerKWh;
        });
      }
      if (rows.length < PAGE) break;
      cursor = rows[rows.length - 1]!.ts + 1;
    }
    // An hour without minute rollups: its increase is spread evenly over its minutes, each priced at its window.
    p = 0;
    for (const row of await store.rollups('energy', req.meterRef, '1h', Math.max(floorTo(req.from, HOUR), floorTo(first, HOUR)), end, 100_000)) {
      if (hoursWithMinutes.has(row.ts)) continue;
      while (p < periods.length && row.ts >= periods[p]!.endMs) p++;
      if (p === periods.length) break;
      if (row.ts < periods[p]!.startMs) continue;
      let importPrice = 0;
      let feedIn = 0;
      for (let t = row.ts; t < row.ts + HOUR;) {
        const s = tariff.pricesAt(t);
        const until = Math.min(s.until, row.ts + HOUR);
        importPrice += (s.importPerKWh * (until - t)) / HOUR;
        feedIn += (s.feedInPerKWh * (until - t)) / HOUR;
        t = until;
      }
      forEachCounterDelta(row.data, (code, delta) => {
        if (code === importCode) importCost[p]! += delta * importPrice;
        else if (code === exportCode) exportCredit[p]! += delta * feedIn;
      });
    }
  }
  return periods.map((period, i) => {
    let standing = 0;
    for (let day = period.startMs; day < period.endMs;) {
      const next = nextPeriod(day, 'day', req.tz);
      const covered = Math.min(next, req.to) - Math.max(day, req.from);
      if (covered > 0) standing += (tariff.standingChargeAt(day) * covered) / (next - day);
      day = next;
    }
    const d = tariff.digits;
    const out = { importCost: roundMoney(importCost[i]!, d), exportCredit: roundMoney(exportCredit[i]!, d), standingCharge: roundMoney(standing, d) };
    return { tariff: tariff.id, currency: tariff.currency, ...out, net: roundMoney(out.importCost + out.standingCharge - out.exportCredit, d) };
  });
}
