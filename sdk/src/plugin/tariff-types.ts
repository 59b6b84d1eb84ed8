/** Tariffs as plugins see them (host API 1.3): what energy costs, from the host's configuration. */

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

/** Read access to the configured tariffs. */
export interface TariffsApi {
  list(): TariffView[];
  /** The tariff a meter pays (its own assignment, else the default); undefined when it has none. */
  forMeter(meterId: string): TariffView | undefined;
  /** The default tariff id and the per-meter assignments. */
  assignments(): { default?: string; meters: Record<string, string> };
}
