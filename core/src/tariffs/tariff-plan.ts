import { wallTimeToEpoch, zoneOffsetAt } from '@meterhub/sdk';
import { minorUnitDigits, windowRanges } from './tariff-check.js';
import { WEEKDAYS, type TariffConfig } from './tariff-schema.js';

const MINUTE = 60_000;
const MINUTES_PER_DAY = 1440;
const WEEK = 7 * MINUTES_PER_DAY;
/** Zone offsets change (DST) only on quarter hours of UTC. */
const QUARTER = 15 * MINUTE;

/** Prices holding from an instant up to `until` (exclusive). */
export interface PriceSpan {
  importPerKWh: number;
  feedInPerKWh: number;
  until: number;
}

interface CompiledVersion {
  startMs: number;
  /** Import price per minute of the local week, Monday 00:00 first. */
  week: Float64Array;
  standingChargePerDay: number;
  feedInPerKWh: number;
}

/**
 * A tariff ready for pricing: each version's week as one price per minute
 * (10,080 numbers), found by local weekday and minute, so pricing a month of
 * minute rollups is a few thousand zone lookups and array reads.
 */
export class TariffPlan {
  readonly id: string;
  readonly currency: string;
  readonly timeZone: string;
  /** Digits of the currency's minor unit: money is rounded to 10^-digits. */
  readonly digits: number;
  readonly #versions: CompiledVersion[];

  constructor(readonly config: TariffConfig) {
    this.id = config.id;
    this.currency = config.currency;
    this.timeZone = config.timeZone;
    this.digits = minorUnitDigits(config.currency);
    this.#versions = config.versions.map((v) => {
      const [y, m, d] = v.validFrom.split('-').map(Number) as [number, number, number];
      const week = new Float64Array(7 * MINUTES_PER_DAY);
      for (const w of v.windows) {
        for (const day of w.days) {
          const base = WEEKDAYS.indexOf(day) * MINUTES_PER_DAY;
          for (const [a, b] of windowRanges(w)) week.fill(w.pricePerKWh, base + a, base + b);
        }
      }
      return { startMs: wallTimeToEpoch(config.timeZone, y, m, d), week, standingChargePerDay: v.standingChargePerDay, feedInPerKWh: v.feedInPerKWh };
    });
  }

  /** The version in force at `t`; the earliest one also before its date. */
  #versionIndex(t: number): number {
    let i = 0;
    while (i + 1 < this.#versions.length && this.#versions[i + 1]!.startMs <= t) i++;
    return i;
  }

  /** The standing charge per day in force at `t`. */
  standingChargeAt(t: number): number {
    return this.#versions[this.#versionIndex(t)]!.standingChargePerDay;
  }

  /**
   * The prices at instant `t` (a whole minute) and how long they hold: until
   * the window changes, the next version starts or the zone's offset changes
   * (a DST change), so a month of minutes needs only a few lookups per window.
   */
  pricesAt(t: number): PriceSpan {
    const vi = this.#versionIndex(t);
    const v = this.#versions[vi]!;
    const offset = zoneOffsetAt(t, this.timeZone);
    const localMinute = Math.floor((t + offset) / MINUTE);
    // 1970-01-01 was a Thursday: day 3 of a week that starts on Monday.
    const minuteOfWeek = (((localMinute + 3 * MINUTES_PER_DAY) % WEEK) + WEEK) % WEEK;
    const price = v.week[minuteOfWeek]!;
    let k = 1;
    while (k < MINUTES_PER_DAY && v.week[(minuteOfWeek + k) % WEEK] === price) k++;
    let until = Math.min(Math.floor(t / MINUTE) * MINUTE + k * MINUTE, this.#versions[vi + 1]?.startMs ?? Number.POSITIVE_INFINITY);
    if (zoneOffsetAt(until - 1, this.timeZone) !== offset) until = this.#offsetChange(t, until, offset);
    return { importPerKWh: price, feedInPerKWh: v.feedInPerKWh, until };
  }

  /** The first quarter hour in (t, until) where the zone's offset is no longer `offset` (zones change offset only on quarter hours). */
  #offsetChange(t: number, until: number, offset: number): number {
    let lo = Math.floor(t / QUARTER) + 1;
    let hi = Math.ceil(until / QUARTER);
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if (zoneOffsetAt(mid * QUARTER, this.timeZone) !== offset) hi = mid;
      else lo = mid + 1;
    }
    return Math.min(lo * QUARTER, until);
  }

  /** A tariff as the REST API shows it: the configuration, with the minor unit. */
  view(): TariffConfig & { minorUnitDigits: number } {
    return { ...structuredClone(this.config), minorUnitDigits: this.digits };
  }
}

/** Rounds money to the minor unit, halves away from zero; float noise below 1e-9 of a minor unit is dropped first. */
export function roundMoney(x: number, digits: number): number {
  const scale = 10 ** digits;
  const scaled = Number((Math.abs(x) * scale).toFixed(6));
  const r = (Math.sign(x) * Math.round(scaled)) / scale;
  return r === 0 ? 0 : r;
}

/** Every tariff of the configuration and which meter pays which. */
export class TariffBook {
  readonly #plans = new Map<string, TariffPlan>();

  constructor(private readonly config: { list: readonly TariffConfig[]; default?: string; meters: Readonly<Record<string, string>> }) {
    for (const t of config.list) this.#plans.set(t.id, new TariffPlan(t));
  }

  list(): TariffPlan[] {
    return [...this.#plans.values()];
  }

  get(id: string): TariffPlan | undefined {
    return this.#plans.get(id);
  }

  /** The tariff a meter pays: its own assignment, else the default; undefined when neither is set. */
  forMeter(meterId: string): TariffPlan | undefined {
    // Own keys only: a meter named `constructor` must not find Object's.
    const id = Object.hasOwn(this.config.meters, meterId) ? this.config.meters[meterId] : this.config.default;
    return id === undefined ? undefined : this.#plans.get(id);
  }

  get defaultId(): string | undefined {
    return this.config.default;
  }

  get assignments(): Readonly<Record<string, string>> {
    return this.config.meters;
  }
}
