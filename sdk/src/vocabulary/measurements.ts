/**
 * The closed vocabulary of measurements. REST fields, Socket.IO messages, CSV
 * columns and storage keys all use these ids, whatever the meter model: a driver
 * maps its registers onto them, it never invents new ones.
 *
 * Ids are camelCase: a quantity, then an optional phase suffix (`L1`, `L12` for
 * line-to-line L1-L2, `N` for neutral), then an optional tariff suffix (`T1`).
 */

/**
 * How a measurement behaves: `instant` values are sampled (voltage, power),
 * `counter` values only rise (energy). Drivers and the poll scheduler speak
 * of kinds.
 */
export type MeasurementKind = 'instant' | 'counter';

/**
 * The same split as `MeasurementKind`, named as the REST paths, storage
 * tables and `storage.latest` name it (the old system's two reading tables):
 * `power` holds the instant kind, `energy` the counter kind. The one type for
 * it: every package imports this one.
 */
export type MeasurementFamily = 'power' | 'energy';

/** The family of each kind: the only mapping between the two names. */
export const FAMILY_OF_KIND: Readonly<Record<MeasurementKind, MeasurementFamily>> = { instant: 'power', counter: 'energy' };

export type Phase = 'L1' | 'L2' | 'L3' | 'L1-L2' | 'L2-L3' | 'L3-L1' | 'N';

/** Units of the vocabulary. Drivers may declare prefixed units (kW) that convert to these. */
export type MeasurementUnit =
  | 'V' | 'A' | 'W' | 'VA' | 'var' | '' | 'deg' | 'Hz' | '%' | 'kWh' | 'kvarh' | 'kVAh' | 'Ah';

export interface MeasurementDefinition {
  readonly id: string;
  readonly label: string;
  readonly unit: MeasurementUnit;
  readonly kind: MeasurementKind;
  readonly family: MeasurementFamily;
  /** The quantity without phase or tariff, e.g. `voltage` for `voltageL1`. */
  readonly quantity: string;
  readonly phase: Phase | null;
  readonly tariff: 'T1' | 'T2' | null;
}

interface QuantitySpec {
  quantity: string;
  label: string;
  unit: MeasurementUnit;
  kind: MeasurementKind;
  /** Which suffixes exist: '' is the whole-system value. */
  variants: readonly string[];
}

const PHASES = ['L1', 'L2', 'L3'] as const;
const LINE_TO_LINE = ['L12', 'L23', 'L31'] as const;
const TARIFFS = ['T1', 'T2'] as const;

const SUFFIX_PHASE: Record<string, Phase> = {
  L1: 'L1', L2: 'L2', L3: 'L3', L12: 'L1-L2', L23: 'L2-L3', L31: 'L3-L1', N: 'N',
};

const withTariffs = (variants: readonly string[]): string[] =>
  variants.flatMap((v) => [v, ...TARIFFS.map((t) => `${v}${t}`)]);

const ALL_PHASES = ['', ...PHASES] as const;

// The table: every documented SDM230/SDM630 input register maps onto one of these.
const QUANTITIES: readonly QuantitySpec[] = [
  { quantity: 'voltage', label: 'Voltage', unit: 'V', kind: 'instant', variants: [...PHASES, ...LINE_TO_LINE] },
  { quantity: 'voltageLnAvg', label: 'Average line-to-neutral voltage', unit: 'V', kind: 'instant', variants: [''] },
  { quantity: 'voltageLlAvg', label: 'Average line-to-line voltage', unit: 'V', kind: 'instant', variants: [''] },
  { quantity: 'current', label: 'Current', unit: 'A', kind: 'instant', variants: [...PHASES, 'N'] },
  { quantity: 'currentAvg', label: 'Average line current', unit: 'A', kind: 'instant', variants: [''] },
  { quantity: 'currentSum', label: 'Sum of line currents', unit: 'A', kind: 'instant', variants: [''] },
  { quantity: 'power', label: 'Active power', unit: 'W', kind: 'instant', variants: ALL_PHASES },
  { quantity: 'apparentPower', label: 'Apparent power', unit: 'VA', kind: 'instant', variants: ALL_PHASES },
  { quantity: 'reactivePower', label: 'Reactive power', unit: 'var', kind: 'instant', variants: ALL_PHASES },
  { quantity: 'powerFactor', label: 'Power factor', unit: '', kind: 'instant', variants: ALL_PHASES },
  { quantity: 'powerFactorInverted', label: 'Power factor, sign inverted', unit: '', kind: 'instant', variants: [''] },
  { quantity: 'phaseAngle', label: 'Phase angle', unit: 'deg', kind: 'instant', variants: ALL_PHASES },
  { quantity: 'frequency', label: 'Frequency', unit: 'Hz', kind: 'instant', variants: [''] },
  { quantity: 'voltageThd', label: 'Voltage THD', unit: '%', kind: 'instant', variants: [...PHASES, ...LINE_TO_LINE] },
  { quantity: 'voltageThdLnAvg', label: 'Average line-to-neutral voltage THD', unit: '%', kind: 'instant', variants: [''] },
  { quantity: 'voltageThdLlAvg', label: 'Average line-to-line voltage THD', unit: '%', kind: 'instant', variants: [''] },
  { quantity: 'currentThd', label: 'Current THD', unit: '%', kind: 'instant', variants: PHASES },
  { quantity: 'currentThdAvg', label: 'Average line current THD', unit: '%', kind: 'instant', variants: [''] },
  { quantity: 'powerDemand', label: 'Total power demand', unit: 'W', kind: 'instant', variants: [''] },
  { quantity: 'powerDemandMax', label: 'Maximum total power demand', unit: 'W', kind: 'instant', variants: withTariffs(['']) },
  { quantity: 'importPowerDemand', label: 'Import power demand', unit: 'W', kind: 'instant', variants: [''] },
  { quantity: 'importPowerDemandMax', label: 'Maximum import power demand', unit: 'W', kind: 'instant', variants: withTariffs(['']) },
  { quantity: 'exportPowerDemand', label: 'Export power demand', unit: 'W', kind: 'instant', variants: [''] },
  { quantity: 'exportPowerDemandMax', label: 'Maximum export power demand', unit: 'W', kind: 'instant', variants: withTariffs(['']) },
  { quantity: 'apparentPowerDemand', label: 'Total apparent power demand', unit: 'VA', kind: 'instant', variants: [''] },
  { quantity: 'apparentPowerDemandMax', label: 'Maximum total apparent power demand', unit: 'VA', kind: 'instant', variants: [''] },
  { quantity: 'currentDemand', label: 'Current demand', unit: 'A', kind: 'instant', variants: [...PHASES, 'N'] },
  { quantity: 'currentDemandMax', label: 'Maximum current demand', unit: 'A', kind: 'instant', variants: [...withTariffs(['L1']), 'L2', 'L3', 'N'] },
  { quantity: 'importEnergy', label: 'Import active energy', unit: 'kWh', kind: 'counter', variants: [...ALL_PHASES, ...TARIFFS] },
  { quantity: 'exportEnergy', label: 'Export active energy', unit: 'kWh', kind: 'counter', variants: [...ALL_PHASES, ...TARIFFS] },
  { quantity: 'totalEnergy', label: 'Total active energy', unit: 'kWh', kind: 'counter', variants: [...ALL_PHASES, ...TARIFFS] },
  { quantity: 'resettableTotalEnergy', label: 'Resettable total active energy', unit: 'kWh', kind: 'counter', variants: [''] },
  { quantity: 'importReactiveEnergy', label: 'Import reactive energy', unit: 'kvarh', kind: 'counter', variants: [...ALL_PHASES, ...TARIFFS] },
  { quantity: 'exportReactiveEnergy', label: 'Export reactive energy', unit: 'kvarh', kind: 'counter', variants: [...ALL_PHASES, ...TARIFFS] },
  { quantity: 'totalReactiveEnergy', label: 'Total reactive energy', unit: 'kvarh', kind: 'counter', variants: [...ALL_PHASES, ...TARIFFS] },
  { quantity: 'resettableTotalReactiveEnergy', label: 'Resettable total reactive energy', unit: 'kvarh', kind: 'counter', variants: [''] },
  { quantity: 'apparentEnergy', label: 'Total apparent energy', unit: 'kVAh', kind: 'counter', variants: [''] },
  { quantity: 'charge', label: 'Charge since last reset', unit: 'Ah', kind: 'counter', variants: [''] },
];

function expand(spec: QuantitySpec): MeasurementDefinition[] {
  return spec.variants.map((suffix) => {
    const tariffMatch = /T[12]$/.exec(suffix);
    const tariff = tariffMatch ? (tariffMatch[0] as 'T1' | 'T2') : null;
    const phaseSuffix = tariff ? suffix.slice(0, -2) : suffix;
    const phase = phaseSuffix ? SUFFIX_PHASE[phaseSuffix] ?? null : null;
    const labelParts = [spec.label, phase, tariff && `tariff ${tariff.slice(1)}`].filter(Boolean);
    return Object.freeze({
      id: `${spec.quantity}${suffix}`,
      label: labelParts.join(' '),
      unit: spec.unit,
      kind: spec.kind,
      family: FAMILY_OF_KIND[spec.kind],
      quantity: spec.quantity,
      phase,
      tariff,
    } satisfies MeasurementDefinition);
  });
}

/** Every measurement of the vocabulary, keyed by id. Frozen: the host and plugins share it. */
export const MEASUREMENTS: ReadonlyMap<string, MeasurementDefinition> = new Map(
  QUANTITIES.flatMap(expand).map((m) => [m.id, m] as const),
);

/** Looks a measurement up; `undefined` for an id outside the vocabulary. */
export function getMeasurement(id: string): MeasurementDefinition | undefined {
  return MEASUREMENTS.get(id);
}

/** True when `id` belongs to the vocabulary. */
export function isMeasurementId(id: string): boolean {
  return MEASUREMENTS.has(id);
}
