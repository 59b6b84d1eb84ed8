import { wallTimeToEpoch } from './zoned-time.js';

const ISO = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
const LOCAL = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?$/;

/**
 * A time as clients send it (ISO 8601, or epoch milliseconds as a number or
 * digits) → epoch ms; undefined when it is neither. For query parameters and
 * bodies of the REST API, exports and plugins that take times.
 *
 * A time without an offset (`2026-11-01`, `2026-11-01T06:00`) is read as a
 * wall-clock time in `tz` (default UTC), never in the host's own zone: a
 * date-only bound is local midnight there.
 */
export function parseTimestamp(value: unknown, tz = 'UTC'): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string') return undefined;
  if (/^-?\d{1,15}$/.test(value)) return Number(value);
  if (!ISO.test(value)) return undefined;
  const local = LOCAL.exec(value);
  if (local) {
    const [y, mo, d, h, mi, s, frac] = local.slice(1).map((x, i) => (i === 6 ? Number(((x ?? '') + '000').slice(0, 3)) : Number(x ?? 0)));
    if (mo! < 1 || mo! > 12 || d! < 1 || d! > 31 || h! > 24 || mi! > 59 || s! > 59) return undefined;
    const t = wallTimeToEpoch(tz, y!, mo!, d!, h!, mi!, s!, frac!);
    // Date.UTC rolls 2026-02-31 over into March: refuse dates that do not exist.
    return new Date(Date.UTC(y!, mo! - 1, d!)).getUTCDate() === d ? t : undefined;
  }
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : t;
}

/** True for a date without a time (`2026-11-01`): a bound that means a local midnight. */
export function isDateOnly(value: unknown): boolean {
  return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value);
}
