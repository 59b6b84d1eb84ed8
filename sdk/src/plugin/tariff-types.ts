/** Tariffs as plugins see them (host API 1.3; changes since 1.4): what energy costs, from the config file and the database. */

/** Import price of a time-of-day window on some local weekdays. */
export interface TariffWindowView {
  name?: string;
  days: string[];
  /** Local "HH:MM"; `to` is exclusive and wraps past midnight when not after `from`. */
  from: string;
  to: string;
  pricePerKWh: number;
}

/** The prices in force from a local date on. */
export interface TariffVersionView {
  validFrom: string;
  windows: TariffWindowView[];
  standingChargePerDay: number;
  feedInPerKWh: number;
}

export interface TariffView {
  id: string;
  name?: string;
  /** ISO 4217 code. */
  currency: string;
  /** Digits of the currency's minor unit (EUR 2, JPY 0): money is rounded to it. */
  minorUnitDigits: number;
  timeZone: string;
  versions: TariffVersionView[];
  /** `config`: declared in the config file, read-only; `api`: made through `TariffsApi` and stored in the database. Since host API 1.4. */
  source: 'config' | 'api';
}

/** What one consumption period cost, each figure rounded to the currency's minor unit. */
export interface PeriodCostView {
  tariff: string;
  currency: string;
  /** Imported energy (importEnergy increases) priced minute by minute at the window in force. */
  importCost: number;
  /** Exported energy (exportEnergy increases) at the feed-in price in force. */
  exportCredit: number;
  /** Standing charge of the period's local days within the range (a day cut by the range counts pro rata). */
  standingCharge: number;
  /** importCost + standingCharge − exportCredit, of the rounded figures. */
  net: number;
}

/**
 * The tariffs of the config file and of the database. Changes (since host API
 * 1.4) are checked with the config file's own schema and rules, stored in the
 * database, and priced with from the next `storage.consumption` call on. The
 * config file's tariffs and assignments are read-only: changing them rejects
 * with METERHUB_ERR_CONFLICT naming the file. Bad input rejects with
 * METERHUB_ERR_VALIDATION, each detail at the field's JSON path. Available
 * from start() on.
 */
export interface TariffsApi {
  list(): TariffView[];
  /** The tariff a meter pays (its own assignment, else the default); undefined when it has none. */
  forMeter(meterId: string): TariffView | undefined;
  /** The default tariff id and the per-meter assignments, the config file's and the database's merged (the file's win). */
  assignments(): { default?: string; meters: Record<string, string> };
  /**
   * The JSON Schema of the config file's `tariffs` section: `properties.list.items` is a tariff,
   * its `properties.versions.items` a price period. Since host API 1.4.
   */
  schema(): Record<string, unknown>;
  /** Stores a new tariff; METERHUB_ERR_CONFLICT when its id is taken. Since host API 1.4. */
  create(input: unknown): Promise<TariffView>;
  /** Replaces a stored tariff whole; METERHUB_ERR_HTTP_NOT_FOUND when there is none. Since host API 1.4. */
  replace(id: string, input: Record<string, unknown>): Promise<TariffView>;
  /** Adds a price period from its `validFrom` on; the days before keep their prices. Since host API 1.4. */
  addVersion(id: string, input: unknown): Promise<TariffView>;
  /** Deletes a stored tariff; METERHUB_ERR_CONFLICT while a meter or the default is assigned to it. Since host API 1.4. */
  remove(id: string): Promise<void>;
  /** Sets the tariff a meter pays; null removes its own (it pays the default). An unknown tariff is reported at `/tariff`. Since host API 1.4. */
  assign(meterId: string, tariffId: string | null): Promise<void>;
  /** Sets the tariff of meters without one of their own; null: none. An unknown tariff is reported at `/default`. Since host API 1.4. */
  setDefault(tariffId: string | null): Promise<void>;
}
