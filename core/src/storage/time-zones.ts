/**
 * Calendar arithmetic in a named time zone with Intl only (no Temporal in Node
 * 20). Local midnights are found by correcting a UTC guess with the zone's
 * offset at that instant, twice, which settles across DST changes (the SDK's
 * zoned-time helpers, shared with plugins that read dates in a zone).
 */
import { isTimeZone, wallTimeToEpoch, zonedParts, zoneOffsetAt } from '@meterhub/sdk';

export interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** 1 = Monday … 7 = Sunday */
  weekday: number;
}

const WEEKDAYS: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };

/** True for a zone name Intl knows ("Europe/Berlin", "UTC"). */
export const isValidTimeZone = isTimeZone;

export function localParts(epochMs: number, tz: string): LocalParts {
  const parts = zonedParts(epochMs, tz);
  return {
    year: Number(parts.year), month: Number(parts.month), day: Number(parts.day),
    hour: Number(parts.hour), minute: Number(parts.minute), second: Number(parts.second),
    weekday: WEEKDAYS[parts.weekday]!,
  };
}

/** The zone's offset from UTC at an instant, in ms (Berlin in summer: +7 200 000). */
export const offsetAt = zoneOffsetAt;

/** The instant a local wall-clock time happens (the earlier one when it happens twice). */
export function localToEpoch(year: number, month: number, day: number, hour = 0, tz = 'UTC'): number {
  return wallTimeToEpoch(tz, year, month, day, hour);
}

export type Period = 'day' | 'week' | 'month';

/** Start of the local day, ISO week (Monday) or month containing `epochMs`. */
export function startOfPeriod(epochMs: number, period: Period, tz: string): number {
  const p = localParts(epochMs, tz);
  if (period === 'month') return localToEpoch(p.year, p.month, 1, 0, tz);
  if (period === 'week') {
    const monday = new Date(Date.UTC(p.year, p.month - 1, p.day - (p.weekday - 1)));
    return localToEpoch(monday.getUTCFullYear(), monday.getUTCMonth() + 1, monday.getUTCDate(), 0, tz);
  }
  return localToEpoch(p.year, p.month, p.day, 0, tz);
}

/** Start of the next period: a local day is 23, 24 or 25 hours long across DST changes. */
export function nextPeriod(start: number, period: Period, tz: string): number {
  const p = localParts(start, tz);
  const d = new Date(Date.UTC(p.year, p.month - 1, p.day));
  if (period === 'day') d.setUTCDate(d.getUTCDate() + 1);
  else if (period === 'week') d.setUTCDate(d.getUTCDate() + 7);
  else d.setUTCMonth(d.getUTCMonth() + 1, 1);
  return localToEpoch(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), 0, tz);
}

/** ISO 8601 with the zone's offset, e.g. 2026-03-29T00:00:00+01:00. */
export function isoInZone(epochMs: number, tz: string): string {
  const p = localParts(epochMs, tz);
  const off = Math.round(offsetAt(epochMs, tz) / 60000);
  const sign = off < 0 ? '-' : '+';
  const pad = (n: number, w = 2) => String(Math.abs(n)).padStart(w, '0');
  const ms = epochMs % 1000 ? `.${pad(epochMs % 1000, 3)}` : '';
  return `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}${ms}${sign}${pad(Math.trunc(off / 60))}:${pad(off % 60)}`;
}
