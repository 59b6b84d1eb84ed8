import { offsetAt } from '../storage/time-zones.js';

const STAMP = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * A time cell of a CSV file → epoch ms: ISO 8601 with an offset as written
 * (this product's export), a wall-clock time without one in `tz` (the earlier
 * instant when a DST change repeats the hour; a time the change skips reads as
 * if the clock had not changed yet), or epoch seconds / milliseconds.
 */
export function parseCsvTime(text: string, tz: string): number | undefined {
  const s = text.trim();
  if (/^\d{9,10}(\.\d+)?$/.test(s)) return Math.round(Number(s) * 1000);
  if (/^\d{12,15}$/.test(s)) return Number(s);
  const m = STAMP.exec(s);
  if (!m) return undefined;
  const [, y, mo, d, h = '0', mi = '0', sec = '0', frac = '', zone] = m;
  const ms = frac ? Math.round(Number(`0.${frac}`) * 1000) : 0;
  const wall = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec), ms);
  if (Number.isNaN(wall)) return undefined;
  if (zone) {
    if (zone === 'Z') return wall;
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    return wall - sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || 0)) * 60_000;
  }
  if (tz === 'UTC') return wall;
  let t = wall - offsetAt(wall, tz);
  t = wall - offsetAt(t, tz);
  // In the repeated hour of autumn both readings fit; the earlier one is the first occurrence.
  const earlier = t - 3_600_000;
  if (earlier + offsetAt(earlier, tz) === wall) return earlier;
  return t;
}
