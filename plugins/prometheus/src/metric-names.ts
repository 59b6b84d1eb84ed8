import { MEASUREMENTS, type MeasurementDefinition, type MeasurementUnit } from '@meterhub/sdk';

/**
 * The one mapping from the measurement vocabulary to Prometheus metrics, after
 * the Prometheus naming guide: base units (volts, amperes, joules, seconds,
 * ratio 0–1), one unit per metric, `_total` only on counters, phase and tariff
 * as labels. Power has no base unit; `_watts` is what exporters use.
 *
 * `sum()` over a metric must stay meaningful, so a whole-system value and its
 * per-phase parts are two metrics (`meterhub_power_watts` and
 * `meterhub_phase_power_watts{phase}`), as are a counter and its tariff
 * registers (`..._joules_total` and `meterhub_tariff_..._joules_total{tariff}`),
 * and line-to-neutral and line-to-line voltages.
 */
export interface MetricMapping {
  /** Full metric name, e.g. `meterhub_phase_power_watts`. */
  readonly name: string;
  readonly help: string;
  readonly type: 'gauge' | 'counter';
  /** Multiplies the vocabulary value into the metric's unit (kWh -> J is 3,600,000). */
  readonly factor: number;
  /** `L1` … `N`, `L1-L2` …; absent for whole-system values. */
  readonly phase?: string;
  /** `T1`, `T2`. */
  readonly tariff?: string;
}

/** Per vocabulary unit: the metric name's unit suffix, the factor into it, and a word for HELP. */
const UNITS: Record<MeasurementUnit, { suffix: string; factor: number; help: string }> = {
  V: { suffix: 'volts', factor: 1, help: 'volts' },
  A: { suffix: 'amperes', factor: 1, help: 'amperes' },
  W: { suffix: 'watts', factor: 1, help: 'watts' },
  VA: { suffix: 'volt_amperes', factor: 1, help: 'volt-amperes' },
  var: { suffix: 'volt_amperes_reactive', factor: 1, help: 'var' },
  '': { suffix: 'ratio', factor: 1, help: 'ratio, -1 to 1' },
  deg: { suffix: 'degrees', factor: 1, help: 'degrees' },
  Hz: { suffix: 'hertz', factor: 1, help: 'hertz' },
  '%': { suffix: 'ratio', factor: 0.01, help: 'ratio, 0 to 1 (the meter\'s percent / 100)' },
  kWh: { suffix: 'joules', factor: 3_600_000, help: 'joules (the meter\'s kWh x 3,600,000)' },
  kvarh: { suffix: 'var_seconds', factor: 3_600_000, help: 'var-seconds (the meter\'s kvarh x 3,600,000)' },
  kVAh: { suffix: 'volt_ampere_seconds', factor: 3_600_000, help: 'volt-ampere-seconds (the meter\'s kVAh x 3,600,000)' },
  Ah: { suffix: 'coulombs', factor: 3600, help: 'coulombs (the meter\'s Ah x 3,600)' },
};

/**
 * Metric stem per vocabulary quantity (before unit and `_total`). Energy keeps
 * the `energy_import` order so related counters sort together. A quantity
 * added to the vocabulary later gets its snake_case name until it is listed.
 */
export const STEMS: Record<string, string> = {
  voltage: 'voltage',
  voltageLnAvg: 'voltage_average',
  voltageLlAvg: 'line_voltage_average',
  current: 'current',
  currentAvg: 'current_average',
  currentSum: 'current_sum',
  power: 'power',
  apparentPower: 'apparent_power',
  reactivePower: 'reactive_power',
  powerFactor: 'power_factor',
  powerFactorInverted: 'power_factor_inverted',
  phaseAngle: 'phase_angle',
  frequency: 'frequency',
  voltageThd: 'voltage_thd',
  voltageThdLnAvg: 'voltage_thd_average',
  voltageThdLlAvg: 'line_voltage_thd_average',
  currentThd: 'current_thd',
  currentThdAvg: 'current_thd_average',
  powerDemand: 'power_demand',
  powerDemandMax: 'power_demand_max',
  importPowerDemand: 'import_power_demand',
  importPowerDemandMax: 'import_power_demand_max',
  exportPowerDemand: 'export_power_demand',
  exportPowerDemandMax: 'export_power_demand_max',
  apparentPowerDemand: 'apparent_power_demand',
  apparentPowerDemandMax: 'apparent_power_demand_max',
  currentDemand: 'current_demand',
  currentDemandMax: 'current_demand_max',
  importEnergy: 'energy_import',
  exportEnergy: 'energy_export',
  totalEnergy: 'energy_import_export',
  resettableTotalEnergy: 'energy_resettable',
  importReactiveEnergy: 'reactive_energy_import',
  exportReactiveEnergy: 'reactive_energy_export',
  totalReactiveEnergy: 'reactive_energy_import_export',
  resettableTotalReactiveEnergy: 'reactive_energy_resettable',
  apparentEnergy: 'apparent_energy',
  charge: 'charge',
};

export const METRIC_PREFIX = 'meterhub_';

/** Quantities that have a whole-system value: their phase values go to a separate `phase_` metric. */
const HAS_SYSTEM_VALUE = new Set([...MEASUREMENTS.values()].filter((m) => !m.phase && !m.tariff).map((m) => m.quantity));

function mappingOf(m: MeasurementDefinition): MetricMapping {
  const stem = STEMS[m.quantity] ?? m.quantity.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  const unit = UNITS[m.unit];
  const lineToLine = m.phase?.includes('-') ?? false;
  // A phase angle is per phase by nature; `phase_phase_angle` would say nothing more.
  const scope = lineToLine ? 'line_' : m.phase && HAS_SYSTEM_VALUE.has(m.quantity) && !stem.startsWith('phase_') ? 'phase_' : '';
  const counter = m.kind === 'counter';
  const name = `${METRIC_PREFIX}${m.tariff ? 'tariff_' : ''}${scope}${stem}_${unit.suffix}${counter ? '_total' : ''}`;
  const quantityLabel = MEASUREMENTS.get(m.quantity)?.label ?? m.label.replace(/ (L\d|L\d-L\d|N)( |$).*/, '');
  const what = `${quantityLabel}${lineToLine ? ', line to line' : m.phase && scope ? ' per phase' : ''}${m.tariff ? ' per tariff' : ''}`;
  return Object.freeze({
    name,
    help: `${what}, in ${unit.help}${counter ? '; a counter, use increase() or rate()' : ''}.`,
    type: counter ? 'counter' : 'gauge',
    factor: unit.factor,
    ...(m.phase ? { phase: m.phase } : {}),
    ...(m.tariff ? { tariff: m.tariff } : {}),
  });
}

/** Vocabulary id -> metric, for every measurement of the vocabulary (built once; a gap fails at load). */
export const METRIC_BY_MEASUREMENT: ReadonlyMap<string, MetricMapping> = new Map(
  [...MEASUREMENTS.values()].map((m) => [m.id, mappingOf(m)] as const),
);
