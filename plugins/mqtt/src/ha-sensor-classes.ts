import type { MeasurementDefinition, MeasurementUnit } from '@meterhub/sdk';

/** How Home Assistant should read one vocabulary unit. */
export interface HaSensorClass {
  device_class?: string;
  /** Spelled as Home Assistant's sensor constants spell it (case-sensitive). */
  unit_of_measurement?: string;
  state_class: 'measurement' | 'total_increasing';
}

/**
 * The one table from the vocabulary's units to Home Assistant's sensor device
 * classes, units and state classes (core `sensor/const.py`: DEVICE_CLASS_UNITS
 * and DEVICE_CLASS_STATE_CLASSES). Counters are `total_increasing` so the
 * Energy dashboard offers them; quantities without a class of their own (THD,
 * phase angle, apparent energy, charge) keep their unit and no device class.
 */
const BY_UNIT: Readonly<Record<MeasurementUnit, HaSensorClass>> = {
  W: { device_class: 'power', unit_of_measurement: 'W', state_class: 'measurement' },
  V: { device_class: 'voltage', unit_of_measurement: 'V', state_class: 'measurement' },
  A: { device_class: 'current', unit_of_measurement: 'A', state_class: 'measurement' },
  Hz: { device_class: 'frequency', unit_of_measurement: 'Hz', state_class: 'measurement' },
  VA: { device_class: 'apparent_power', unit_of_measurement: 'VA', state_class: 'measurement' },
  var: { device_class: 'reactive_power', unit_of_measurement: 'var', state_class: 'measurement' },
  // The vocabulary's power factor is the -1..1 ratio: no unit (`%` would need ×100).
  '': { device_class: 'power_factor', state_class: 'measurement' },
  '%': { unit_of_measurement: '%', state_class: 'measurement' },
  deg: { unit_of_measurement: '°', state_class: 'measurement' },
  kWh: { device_class: 'energy', unit_of_measurement: 'kWh', state_class: 'total_increasing' },
  // Home Assistant 2025.6+; older releases reject the class (see docs/mqtt.md).
  kvarh: { device_class: 'reactive_energy', unit_of_measurement: 'kvarh', state_class: 'total_increasing' },
  kVAh: { unit_of_measurement: 'kVAh', state_class: 'total_increasing' },
  Ah: { unit_of_measurement: 'Ah', state_class: 'total_increasing' },
};

/** The Home Assistant sensor class of a measurement. */
export function haSensorClass(measurement: MeasurementDefinition): HaSensorClass {
  const byUnit = BY_UNIT[measurement.unit];
  // A unit-less measurement that is not a power factor would be mislabelled by the '' row.
  if (measurement.unit === '' && !measurement.quantity.startsWith('powerFactor')) return { state_class: 'measurement' };
  return byUnit;
}
