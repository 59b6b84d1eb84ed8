/**
 * The old Django API's lower-case reading fields (`voltage`, `power_factor`,
 * `import_energy` …) and the vocabulary measurement each one means. A field
 * names a quantity, not a phase: on a single-phase meter `voltage` is
 * `voltageL1`, on a three-phase meter the average line-to-neutral voltage.
 *
 * One table for everything that reads the old system's data: the REST API's
 * flat reading bodies and importers of old records. docs/rest-api.md shows it.
 */
export interface LegacyApiField {
  /** The field as the old API and logger wrote it. */
  readonly field: string;
  /** The measurement on a single-phase meter. */
  readonly singlePhase: string;
  /** The measurement on a three-phase meter. */
  readonly threePhase: string;
}

export const LEGACY_API_FIELDS: readonly LegacyApiField[] = Object.freeze([
  { field: 'voltage', singlePhase: 'voltageL1', threePhase: 'voltageLnAvg' },
  { field: 'current', singlePhase: 'currentL1', threePhase: 'currentSum' },
  { field: 'power', singlePhase: 'power', threePhase: 'power' },
  { field: 'active_power', singlePhase: 'power', threePhase: 'power' },
  { field: 'apparent_power', singlePhase: 'apparentPower', threePhase: 'apparentPower' },
  { field: 'reactive_power', singlePhase: 'reactivePower', threePhase: 'reactivePower' },
  { field: 'power_factor', singlePhase: 'powerFactor', threePhase: 'powerFactor' },
  { field: 'phase_angle', singlePhase: 'phaseAngle', threePhase: 'phaseAngle' },
  { field: 'frequency', singlePhase: 'frequency', threePhase: 'frequency' },
  { field: 'power_demand', singlePhase: 'powerDemand', threePhase: 'powerDemand' },
  { field: 'max_power_demand', singlePhase: 'powerDemandMax', threePhase: 'powerDemandMax' },
  { field: 'energy', singlePhase: 'totalEnergy', threePhase: 'totalEnergy' },
  { field: 'total_energy', singlePhase: 'totalEnergy', threePhase: 'totalEnergy' },
  { field: 'import_energy', singlePhase: 'importEnergy', threePhase: 'importEnergy' },
  { field: 'export_energy', singlePhase: 'exportEnergy', threePhase: 'exportEnergy' },
  { field: 'reactive_energy', singlePhase: 'totalReactiveEnergy', threePhase: 'totalReactiveEnergy' },
  { field: 'import_reactive_energy', singlePhase: 'importReactiveEnergy', threePhase: 'importReactiveEnergy' },
  { field: 'export_reactive_energy', singlePhase: 'exportReactiveEnergy', threePhase: 'exportReactiveEnergy' },
  { field: 'apparent_energy', singlePhase: 'apparentEnergy', threePhase: 'apparentEnergy' },
].map((f) => Object.freeze(f)));

const BY_FIELD = new Map(LEGACY_API_FIELDS.map((f) => [f.field, f]));

/**
 * The measurement an old API field means on a meter whose driver is `driver`
 * (three-phase when it reads `voltageL3`); undefined for a field outside the
 * table. Callers still check that the driver reads the measurement.
 */
export function legacyApiFieldMeasurement(field: string, driver: { resolve(name: string): unknown } | undefined): string | undefined {
  const entry = BY_FIELD.get(field.toLowerCase());
  if (!entry) return undefined;
  return driver?.resolve('voltageL3') ? entry.threePhase : entry.singlePhase;
}
