import type { MeasurementUnit } from './measurements.js';

/**
 * Units a driver may declare for a register, and how each converts to a
 * vocabulary unit. Datasheets mix prefixes (the SDM230-2T reports tariff demand
 * in kW while everything else is in W) and spellings (VAr, kVArh); the driver
 * states what the datasheet says and the host converts once, at load time.
 */
const UNIT_CONVERSIONS: Readonly<Record<string, { unit: MeasurementUnit; factor: number }>> = {
  V: { unit: 'V', factor: 1 },
  kV: { unit: 'V', factor: 1000 },
  mV: { unit: 'V', factor: 0.001 },
  A: { unit: 'A', factor: 1 },
  mA: { unit: 'A', factor: 0.001 },
  W: { unit: 'W', factor: 1 },
  kW: { unit: 'W', factor: 1000 },
  VA: { unit: 'VA', factor: 1 },
  kVA: { unit: 'VA', factor: 1000 },
  var: { unit: 'var', factor: 1 },
  VAr: { unit: 'var', factor: 1 },
  kvar: { unit: 'var', factor: 1000 },
  kVAr: { unit: 'var', factor: 1000 },
  '': { unit: '', factor: 1 },
  deg: { unit: 'deg', factor: 1 },
  Hz: { unit: 'Hz', factor: 1 },
  '%': { unit: '%', factor: 1 },
  Wh: { unit: 'kWh', factor: 0.001 },
  kWh: { unit: 'kWh', factor: 1 },
  MWh: { unit: 'kWh', factor: 1000 },
  varh: { unit: 'kvarh', factor: 0.001 },
  kvarh: { unit: 'kvarh', factor: 1 },
  kVArh: { unit: 'kvarh', factor: 1 },
  Mvarh: { unit: 'kvarh', factor: 1000 },
  VAh: { unit: 'kVAh', factor: 0.001 },
  kVAh: { unit: 'kVAh', factor: 1 },
  Ah: { unit: 'Ah', factor: 1 },
  kAh: { unit: 'Ah', factor: 1000 },
};

/** Every unit string a driver definition may use. */
export const DRIVER_UNITS: readonly string[] = Object.freeze(Object.keys(UNIT_CONVERSIONS));

/**
 * The factor that turns a value in `from` into `to`, or `undefined` when the two
 * measure different things (a driver that maps a kWh register onto a power
 * measurement is wrong, and the driver checks report it).
 */
export function unitFactor(from: string, to: MeasurementUnit): number | undefined {
  const conversion = UNIT_CONVERSIONS[from];
  if (!conversion || conversion.unit !== to) return undefined;
  return conversion.factor;
}
