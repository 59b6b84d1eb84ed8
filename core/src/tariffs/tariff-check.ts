import { isTimeZone, type ErrorDetail } from '@meterhub/sdk';
import { WEEKDAYS, type TariffConfig, type TariffsConfig, type TariffVersionConfig, type TariffWindowConfig } from './tariff-schema.js';

const MINUTES_PER_DAY = 1440;

/** Minutes since local midnight of "HH:MM" ("24:00" is 1440). */
export function minuteOfDay(hhmm: string): number {
  return Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
}

/** The local minutes of a day a window covers, as [start, end) ranges (a wrapping window gives two). */
export function windowRanges(w: Pick<TariffWindowConfig, 'from' | 'to'>): Array<[number, number]> {
  const from = minuteOfDay(w.from);
  const to = minuteOfDay(w.to);
  if (to > from) return [[from, to]];
  const ranges: Array<[number, number]> = [[0, to], [from, MINUTES_PER_DAY]];
  return ranges.filter(([a, b]) => b > a);
}

const currencies = new Set(Intl.supportedValuesOf('currency'));

/** True for an ISO 4217 code this runtime knows the minor unit of. */
export const isCurrency = (code: string): boolean => currencies.has(code);

/** Digits after the decimal point of a currency's minor unit (EUR 2, JPY 0, BHD 3), from ISO 4217 as Intl knows it. */
export function minorUnitDigits(currency: string): number {
  return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
}

function validDate(s: string): boolean {
  const [y, m, d] = s.split('-').map(Number) as [number, number, number];
  const t = new Date(Date.UTC(y, m - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d;
}

/** Lists "HH:MM-HH:MM" ranges of a day's minutes whose count matches. */
function describeMinutes(counts: Uint8Array, dayOffset: number, match: (c: number) => boolean): string {
  const parts: string[] = [];
  const hhmm = (m: number) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
  for (let m = 0; m < MINUTES_PER_DAY; m++) {
    if (!match(counts[dayOffset + m]!)) continue;
    let e = m;
    while (e < MINUTES_PER_DAY && match(counts[dayOffset + e]!)) e++;
    parts.push(`${hhmm(m)}-${hhmm(e)}`);
    m = e;
  }
  return parts.join(', ');
}

/**
 * What the schema cannot check in one price period: a real date, and windows
 * covering every minute of every weekday exactly once. Paths start at `path`.
 */
export function versionProblems(v: TariffVersionConfig, path: string): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  if (!validDate(v.validFrom)) problems.push({ path: `${path}/validFrom`, message: `"${v.validFrom}" is not a calendar date` });
  // One slot per minute of the week: a window adds 1 to each minute it covers.
  const counts = new Uint8Array(7 * MINUTES_PER_DAY);
  v.windows.forEach((w, k) => {
    const ranges = windowRanges(w);
    if (ranges.length === 0) problems.push({ path: `${path}/windows/${k}/to`, message: 'the window is empty' });
    for (const day of w.days) {
      const base = WEEKDAYS.indexOf(day) * MINUTES_PER_DAY;
      let overlap = false;
      for (const [a, b] of ranges) for (let m = a; m < b; m++) if (counts[base + m]!++ > 0) overlap = true;
      if (overlap) problems.push({ path: `${path}/windows/${k}`, message: `overlaps an earlier window on ${day}: ${describeMinutes(counts, base, (c) => c > 1)}` });
    }
  });
  WEEKDAYS.forEach((day, d) => {
    const gaps = describeMinutes(counts, d * MINUTES_PER_DAY, (c) => c === 0);
    if (gaps) problems.push({ path: `${path}/windows`, message: `no window covers ${day} ${gaps}`, hint: 'every minute of every weekday needs exactly one price' });
  });
  return problems;
}

/**
 * What the schema cannot check in one tariff: a known currency and zone, and
 * each price period valid and after the one before. Paths start at `path`
 * (the config file's `/tariffs/list/0`, or `` for a REST body).
 */
export function tariffDefinitionProblems(t: TariffConfig, path: string): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  if (!isCurrency(t.currency)) problems.push({ path: `${path}/currency`, message: `"${t.currency}" is not an ISO 4217 currency code`, hint: 'e.g. EUR, GBP, CHF, USD' });
  if (!isTimeZone(t.timeZone)) problems.push({ path: `${path}/timeZone`, message: `"${t.timeZone}" is not a known IANA time zone`, hint: 'e.g. Europe/Berlin' });
  let previous = '';
  t.versions.forEach((v, j) => {
    const vpath = `${path}/versions/${j}`;
    const own = versionProblems(v, vpath);
    problems.push(...own);
    if (own.some((p) => p.path === `${vpath}/validFrom`)) return;
    if (v.validFrom <= previous) problems.push({ path: `${vpath}/validFrom`, message: `must be after ${previous} (versions are in ascending order of validFrom)` });
    else previous = v.validFrom;
  });
  return problems;
}

/**
 * What the schema cannot check in `tariffs`: each tariff (above), unique ids
 * and references to declared tariffs. Each problem carries the JSON path of
 * its field.
 */
export function tariffProblems(tariffs: TariffsConfig): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  const ids = new Set<string>();
  tariffs.list.forEach((t, i) => {
    const path = `/tariffs/list/${i}`;
    if (ids.has(t.id)) problems.push({ path: `${path}/id`, message: `tariff id "${t.id}" is used twice` });
    ids.add(t.id);
    problems.push(...tariffDefinitionProblems(t, path));
  });
  if (tariffs.default !== undefined && !ids.has(tariffs.default)) problems.push({ path: '/tariffs/default', message: `no tariff "${tariffs.default}"`, hint: ids.size ? `tariffs: ${[...ids].join(', ')}` : 'declare it under tariffs.list' });
  for (const [meter, tariff] of Object.entries(tariffs.meters)) {
    if (!ids.has(tariff)) problems.push({ path: `/tariffs/meters/${meter}`, message: `no tariff "${tariff}"`, hint: ids.size ? `tariffs: ${[...ids].join(', ')}` : 'declare it under tariffs.list' });
  }
  return problems;
}
