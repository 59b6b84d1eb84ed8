/**
 * The `tariffs` section of the configuration: what energy costs. Checks a
 * schema cannot express (windows that overlap or leave gaps, currencies,
 * dates in order, references) live in tariff-check.ts.
 */

const id = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$' };
const money = { type: 'number', minimum: 0, maximum: 1_000_000 };
const timeOfDay = { type: 'string', pattern: '^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$' };
const WEEKDAY_NAMES = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

export const TARIFF_WINDOW_SCHEMA = {
  type: 'object',
  required: ['from', 'to', 'pricePerKWh'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', maxLength: 100, description: 'A label such as "peak" or "night".' },
    days: {
      type: 'array', items: { enum: WEEKDAY_NAMES }, uniqueItems: true, minItems: 1,
      default: [...WEEKDAY_NAMES],
      description: 'Local weekdays the window applies to.',
    },
    from: { ...timeOfDay, description: 'Local start time "HH:MM" in the tariff\'s time zone.' },
    to: { ...timeOfDay, description: 'Local end time, exclusive; "24:00" is the end of the day. When `to` is not after `from` the window wraps: 22:00 to 06:00 covers 00:00-06:00 and 22:00-24:00 of each of its days.' },
    pricePerKWh: { ...money, description: 'Price of imported energy in this window, in the currency\'s major unit per kWh.' },
  },
} as const;

export const TARIFF_VERSION_SCHEMA = {
  type: 'object',
  required: ['validFrom', 'windows'],
  additionalProperties: false,
  properties: {
    validFrom: {
      type: 'string', pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$',
      description: 'Local date (the tariff\'s time zone) from whose midnight these prices apply. The earliest version also applies before its date.',
    },
    windows: { type: 'array', minItems: 1, items: TARIFF_WINDOW_SCHEMA, description: 'Import prices by time of day and weekday; each minute of the week lies in exactly one window.' },
    standingChargePerDay: { ...money, default: 0, description: 'Fixed charge per local day.' },
    feedInPerKWh: { ...money, default: 0, description: 'Credit per kWh of exported energy.' },
  },
} as const;

export const TARIFF_SCHEMA = {
  type: 'object',
  required: ['id', 'currency', 'timeZone', 'versions'],
  additionalProperties: false,
  properties: {
    id,
    name: { type: 'string', maxLength: 200 },
    currency: { type: 'string', pattern: '^[A-Z]{3}$', description: 'ISO 4217 code (EUR, GBP, CHF …); money is rounded to its minor unit.' },
    timeZone: { type: 'string', default: 'UTC', description: 'IANA zone the windows\' times of day and the validFrom dates are read in.' },
    versions: { type: 'array', minItems: 1, items: TARIFF_VERSION_SCHEMA, description: 'Prices over time, by validFrom in ascending order.' },
  },
} as const;

export const TARIFFS_SECTION_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  default: {},
  description: 'What energy costs: consumption answers and exports gain cost columns for meters with a tariff.',
  properties: {
    list: { type: 'array', default: [], items: TARIFF_SCHEMA },
    default: { ...id, description: 'Tariff id of every meter not named in `meters`; absent: such meters have no cost.' },
    meters: {
      type: 'object', default: {},
      propertyNames: id, additionalProperties: id,
      description: 'Meter id → tariff id, overriding `default`.',
    },
  },
} as const;

export type WeekdayName = (typeof WEEKDAY_NAMES)[number];
export const WEEKDAYS: readonly WeekdayName[] = WEEKDAY_NAMES;

export interface TariffWindowConfig {
  name?: string;
  days: WeekdayName[];
  from: string;
  to: string;
  pricePerKWh: number;
}

export interface TariffVersionConfig {
  validFrom: string;
  windows: TariffWindowConfig[];
  standingChargePerDay: number;
  feedInPerKWh: number;
}

export interface TariffConfig {
  id: string;
  name?: string;
  currency: string;
  timeZone: string;
  versions: TariffVersionConfig[];
}

export interface TariffsConfig {
  list: TariffConfig[];
  default?: string;
  meters: Record<string, string>;
}
