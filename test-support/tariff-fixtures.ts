/**
 * Tariffs, readings and an independent cost computation for the cost tests.
 * The expected figures are computed here from the raw readings the tests
 * submit, plainly, with Intl for local time: none of the product's code.
 */

const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri'];

/** A time-of-use contract in Berlin with a price change on 2026-06-01, and a night saver for DST days. */
export const TARIFFS = {
  default: 'tou',
  meters: { dst: 'nightsaver' },
  list: [
    {
      id: 'tou', name: 'Time of use', currency: 'EUR', timeZone: 'Europe/Berlin',
      versions: [
        {
          validFrom: '2026-01-01', standingChargePerDay: 0.5, feedInPerKWh: 0.08,
          windows: [
            { name: 'day', days: WEEKDAYS, from: '07:00', to: '22:00', pricePerKWh: 0.31 },
            { name: 'night', days: WEEKDAYS, from: '22:00', to: '07:00', pricePerKWh: 0.19 },
            { name: 'weekend', days: ['sat', 'sun'], from: '00:00', to: '24:00', pricePerKWh: 0.23 },
          ],
        },
        {
          validFrom: '2026-06-01', standingChargePerDay: 0.61, feedInPerKWh: 0.07,
          windows: [
            { name: 'day', days: WEEKDAYS, from: '07:00', to: '22:00', pricePerKWh: 0.36 },
            { name: 'night', days: WEEKDAYS, from: '22:00', to: '07:00', pricePerKWh: 0.21 },
            { name: 'weekend', days: ['sat', 'sun'], from: '00:00', to: '24:00', pricePerKWh: 0.25 },
          ],
        },
      ],
    },
    {
      id: 'nightsaver', currency: 'GBP', timeZone: 'Europe/Berlin',
      versions: [{ validFrom: '2026-01-01', standingChargePerDay: 0.4, windows: [{ from: '07:00', to: '23:00', pricePerKWh: 0.32 }, { from: '23:00', to: '07:00', pricePerKWh: 0.15 }] }],
    },
  ],
};

export interface TestReading {
  timestamp: number;
  values: { importEnergy: number; exportEnergy: number };
}

/**
 * One reading 20 s into every `step`-th minute of [from, to): the import counter rises
 * by 1/64 to 7/64 kWh a minute (exact in float32, so sums carry no rounding
 * of their own); the export counter rises between 11:00 and 15:00 UTC by
 * 3/64 kWh a minute when `feedIn` is set.
 */
export function minuteReadings(from: number, to: number, feedIn = false, step = 1): TestReading[] {
  const out: TestReading[] = [];
  let imp = 1000;
  let exp = 500;
  for (let t = from, i = 0; t < to; t += step * 60_000, i++) {
    imp += ((i % 7) + 1) / 64;
    const hour = new Date(t).getUTCHours();
    if (feedIn && hour >= 11 && hour < 15) exp += 3 / 64;
    out.push({ timestamp: t + 20_000, values: { importEnergy: imp, exportEnergy: exp } });
  }
  return out;
}

/** Local weekday, hour and minute in a zone, and the local date, by Intl. */
function local(ts: number, tz: string): { day: string; minutes: number; date: string } {
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', weekday: 'short', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' })
    .formatToParts(ts).map((p) => [p.type, p.value]));
  return { day: parts['weekday']!.toLowerCase(), minutes: Number(parts['hour']) * 60 + Number(parts['minute']), date: `${parts['year']}-${parts['month']}-${parts['day']}` };
}

const toMinutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3));

/** The import price, feed-in price and standing charge of a tariff at an instant, looked up the slow obvious way. */
export function pricesAt(tariff: (typeof TARIFFS.list)[number], ts: number): { importPrice: number; feedIn: number; standing: number } {
  const l = local(ts, tariff.timeZone);
  const version = [...tariff.versions].reverse().find((v) => v.validFrom <= l.date) ?? tariff.versions[0]!;
  const window = version.windows.find((w) => {
    const days = (w as { days?: string[] }).days ?? ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
    const a = toMinutes(w.from);
    const b = toMinutes(w.to);
    const inTime = b > a ? l.minutes >= a && l.minutes < b : l.minutes >= a || l.minutes < b;
    return days.includes(l.day) && inTime;
  })!;
  return { importPrice: window.pricePerKWh, feedIn: (version as { feedInPerKWh?: number }).feedInPerKWh ?? 0, standing: version.standingChargePerDay };
}

/** Rounds to cents, halves away from zero (the documented rule). */
export const cents = (x: number, digits = 2) => Math.sign(x) * Math.round(Number((Math.abs(x) * 10 ** digits).toFixed(6))) / 10 ** digits;

/**
 * The expected cost of [start, end): each reading's increase over the one
 * before it is priced at the minute the reading falls in; the standing
 * charge is that of the day's start, for one whole day.
 */
export function expectedCost(tariff: (typeof TARIFFS.list)[number], readings: readonly TestReading[], start: number, end: number) {
  let importCost = 0;
  let exportCredit = 0;
  let importKWh = 0;
  for (let i = 1; i < readings.length; i++) {
    const r = readings[i]!;
    if (r.timestamp < start || r.timestamp >= end) continue;
    const minute = Math.floor(r.timestamp / 60_000) * 60_000;
    const p = pricesAt(tariff, minute);
    const dImport = r.values.importEnergy - readings[i - 1]!.values.importEnergy;
    const dExport = r.values.exportEnergy - readings[i - 1]!.values.exportEnergy;
    importKWh += dImport;
    importCost += dImport * p.importPrice;
    exportCredit += dExport * p.feedIn;
  }
  const standing = pricesAt(tariff, start).standing;
  const result = { importCost: cents(importCost), exportCredit: cents(exportCredit), standingCharge: cents(standing) };
  return { ...result, net: cents(result.importCost + result.standingCharge - result.exportCredit), importKWh };
}
