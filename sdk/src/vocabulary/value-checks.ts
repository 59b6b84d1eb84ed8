import type { MeasurementDefinition } from './measurements.js';

/**
 * Plausible magnitudes per unit. Outside them a value is a decoding error or a
 * meter's "not available" marker, never a measurement; storing it would spoil
 * charts and consumption sums.
 */
const LIMITS: Record<string, [number, number]> = {
  V: [-1e6, 1e6],
  A: [-1e5, 1e5],
  W: [-1e9, 1e9],
  VA: [-1e9, 1e9],
  var: [-1e9, 1e9],
  '': [-1.5, 1.5],
  deg: [-360, 360],
  Hz: [0, 1000],
  '%': [0, 1000],
  kWh: [0, 1e12],
  kvarh: [0, 1e12],
  kVAh: [0, 1e12],
  Ah: [0, 1e12],
};

/**
 * Why a decoded value must not be stored, or undefined when it is fine. The
 * host checks every value of a poll with it before submitting the reading; the
 * conformance kit reports the reason when a served value does not come back.
 */
export function invalidReason(m: MeasurementDefinition, value: number): string | undefined {
  if (Number.isNaN(value)) return 'NaN (the meter marks the value unavailable)';
  if (!Number.isFinite(value)) return 'infinite';
  const [lo, hi] = LIMITS[m.unit] ?? [-1e12, 1e12];
  if (value < lo || value > hi) return `${value} ${m.unit} is outside the plausible range ${lo}..${hi}`;
  return undefined;
}
