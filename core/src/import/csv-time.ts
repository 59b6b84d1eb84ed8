import { offsetAt } from '../storage/time-zones.js';

const STAMP = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * A time cell of a CSV file → epoch ms: ISO 8601 with an offset as written
 * (this product's export), a wall-clock time without one in `tz` (a time the
 * spring change skips reads as if the clock had not changed yet), or epoch
 * seconds / milliseconds. In the hour that autumn's change repeats a wall
 * time happens twice: `after` (the previous row's time of the same meter)
 * picks the second instant once the file has passed the first.
 */
export function parseCsvTime(text: string, tz: string, after?: number): number | undefined {
  const [first, second] = csvTimeCandidates(text, tz);
  return second !== undefined && after !== undefined && first! <= after ? second : first;
}

/** The instants a time cell may mean: one, or two in a repeated hour (earlier first). */
function csvTimeCandidates(text: string, tz: string): number[] {
  const s = text.trim();
  if (/^\d{9,10}(\.\d+)?$/.test(s)) return [Math.round(Number(s) * 1000)];
  if (/^\d{12,15}$/.test(s)) return [Number(s)];
  const m = STAMP.exec(s);
  if (!m) return [];
  const [, y, mo, d, h = '0', mi = '0', sec = '0', frac = '', zone] = m;
  const ms = frac ? Math.round(Number(`0.${frac}`) * 1000) : 0;
  const wall = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec), ms);
  if (Number.isNaN(wall)) return [];
  if (zone) {
    if (zone === 'Z') return [wall];
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    return [wall - sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || 0)) * 60_000];
  }
  if (tz === 'UTC') return [wall];
  let t = wall - offsetAt(wall, tz);
  t = wall - offsetAt(t, tz);
  const earlier = t - 3_600_000;
  const later = t + 3_600_000;
  const fits = (c: number) => c + offsetAt(c, tz) === wall;
  if (fits(earlier)) return [earlier, t];
  if (fits(later) && later !== t) return [t, later];
  return [t];
}
