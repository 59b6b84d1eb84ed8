/**
 * Wall-clock times in a named IANA zone, with Intl only (Node 20 has no
 * Temporal). The host's calendar arithmetic and plugins that read dates given
 * in a zone (REST, exports) share these, so a date means the same everywhere.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric',
      hour: 'numeric', minute: 'numeric', second: 'numeric', weekday: 'short',
    });
    formatters.set(tz, f);
  }
  return f;
}

/** True for a zone name the runtime knows ("Europe/Berlin", "UTC"). */
export function isTimeZone(tz: string): boolean {
  try {
    formatter(tz);
    return true;
  } catch {
    return false;
  }
}

/** The local calendar fields of an instant in `tz` (weekday as Intl's short name). */
export function zonedParts(epochMs: number, tz: string): Record<'year' | 'month' | 'day' | 'hour' | 'minute' | 'second' | 'weekday', string> {
  const parts = Object.fromEntries(formatter(tz).formatToParts(new Date(epochMs)).map((p) => [p.type, p.value]));
  return parts as Record<'year' | 'month' | 'day' | 'hour' | 'minute' | 'second' | 'weekday', string>;
}

/** The zone's offset from UTC at an instant, in ms (Berlin in summer: +7 200 000). */
export function zoneOffsetAt(epochMs: number, tz: string): number {
  const p = zonedParts(epochMs, tz);
  const asUtc = Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute), Number(p.second));
  return asUtc - (epochMs - (((epochMs % 1000) + 1000) % 1000));
}

/**
 * The instant a local wall-clock time happens in `tz` (the earlier one when
 * it happens twice; a time skipped by a DST change moves forward by the gap).
 * The UTC guess is corrected by the zone's offset twice, which settles across
 * DST changes.
 */
export function wallTimeToEpoch(tz: string, year: number, month: number, day: number, hour = 0, minute = 0, second = 0, ms = 0): number {
  const wall = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  let t = wall - zoneOffsetAt(wall, tz);
  t = wall - zoneOffsetAt(t, tz);
  return t;
}
