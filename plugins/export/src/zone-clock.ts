/**
 * Timestamps in a time zone, fast: an export writes one per row, and
 * Intl.DateTimeFormat per row would cap a CSV export far below the rate the
 * database delivers. The zone's UTC offset is looked up once per quarter hour
 * (every zone changes offset on a quarter-hour boundary) and cached; the
 * fields then come from plain arithmetic.
 */
const TWO = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));

export class ZoneClock {
  readonly #format: Intl.DateTimeFormat;
  #bucket = Number.NaN;
  #offsetMs = 0;
  readonly #cache = new Map<number, number>();

  constructor(readonly tz: string) {
    this.#format = new Intl.DateTimeFormat('en-US', {
      timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
    });
  }

  /** Throws a RangeError for a name the runtime does not know. */
  static check(tz: string): boolean {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  }

  /** The zone's offset from UTC at `epochMs`, in milliseconds. */
  offsetAt(epochMs: number): number {
    const bucket = Math.floor(epochMs / 900_000);
    if (bucket === this.#bucket) return this.#offsetMs;
    let offset = this.#cache.get(bucket);
    if (offset === undefined) {
      const at = bucket * 900_000;
      const parts: Record<string, number> = {};
      for (const p of this.#format.formatToParts(at)) if (p.type !== 'literal') parts[p.type] = Number(p.value);
      offset = Date.UTC(parts['year']!, parts['month']! - 1, parts['day']!, parts['hour']!, parts['minute']!, parts['second']!) - at;
      if (this.#cache.size > 100_000) this.#cache.clear();
      this.#cache.set(bucket, offset);
    }
    this.#bucket = bucket;
    this.#offsetMs = offset;
    return offset;
  }

  #day = Number.NaN;
  #dayPrefix = '';
  #suffixFor = Number.NaN;
  #suffix = '';

  /**
   * ISO 8601 with the zone's offset: `2026-03-29T03:00:00+02:00` (milliseconds
   * only when not zero). The date part and the offset are made once per local
   * day and per offset; each row adds only its time of day.
   */
  iso(epochMs: number): string {
    const offset = this.offsetAt(epochMs);
    const local = epochMs + offset;
    const day = Math.floor(local / 86_400_000);
    if (day !== this.#day) {
      this.#day = day;
      this.#dayPrefix = new Date(day * 86_400_000).toISOString().slice(0, 11);
    }
    if (offset !== this.#suffixFor) {
      this.#suffixFor = offset;
      const minutes = Math.round(Math.abs(offset) / 60_000);
      this.#suffix = offset === 0 && this.tz === 'UTC' ? 'Z' : `${offset < 0 ? '-' : '+'}${TWO[Math.floor(minutes / 60)]}:${TWO[minutes % 60]}`;
    }
    const ms = local - day * 86_400_000;
    const s = Math.floor(ms / 1000);
    const frac = ms % 1000;
    return `${this.#dayPrefix}${TWO[Math.floor(s / 3600)]}:${TWO[Math.floor(s / 60) % 60]}:${TWO[s % 60]}${frac ? `.${String(frac).padStart(3, '0')}` : ''}${this.#suffix}`;
  }

  /**
   * The local wall-clock time as a Date whose UTC fields are the local fields:
   * spreadsheet dates carry no zone, so this is what a spreadsheet must show.
   */
  wallClock(epochMs: number): Date {
    return new Date(epochMs + this.offsetAt(epochMs));
  }
}
