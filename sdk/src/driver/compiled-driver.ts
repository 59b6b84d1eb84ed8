import { compileDecoder, registerCount, type RegisterEncoding } from '../codec/register-codec.js';
import { MeterhubError } from '../errors/error-catalog.js';
import { getMeasurement, type MeasurementDefinition } from '../vocabulary/measurements.js';
import { unitFactor } from '../vocabulary/units.js';
import type { DriverDefinition, RegisterDefinition, RegisterFunction } from './driver-types.js';

/** A register of a loaded driver, with everything the poller needs precomputed. */
export interface CompiledRegister {
  readonly measurement: MeasurementDefinition;
  readonly function: RegisterFunction;
  readonly address: number;
  readonly count: number;
  readonly encoding: Required<RegisterEncoding>;
  /** raw value × factor = value in the vocabulary's unit (scale and unit prefix folded together). */
  readonly factor: number;
  readonly decode: (data: Buffer, byteOffset: number) => number;
  readonly source: RegisterDefinition;
}

/**
 * A validated driver prepared for polling and simulation: registers resolved to
 * vocabulary entries, decoders compiled, legacy names indexed. Built once per
 * driver at load.
 */
export interface CompiledDriver {
  readonly definition: DriverDefinition;
  readonly id: string;
  readonly registers: readonly CompiledRegister[];
  readonly byMeasurement: ReadonlyMap<string, CompiledRegister>;
  /**
   * Resolves a measurement id, an old `meterlist.json` parameter name ("Active
   * Power") or a datasheet name ("l1_voltage") to this driver's register.
   */
  resolve(name: string): CompiledRegister | undefined;
}

/** Lower-case, letters and digits only: "Active Power", "active_power" and "activePower" meet. */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/** Compiles a definition that already passed {@link validateDriverDefinition}. */
export function compileDriver(definition: DriverDefinition): CompiledDriver {
  const registers: CompiledRegister[] = definition.registers.map((reg) => {
    const measurement = getMeasurement(reg.measurement);
    const unit = measurement && unitFactor(reg.unit, measurement.unit);
    if (!measurement || unit === undefined) {
      throw new MeterhubError('METERHUB_ERR_DRIVER_INVALID', `${definition.id}: register ${reg.measurement} is not valid; validate the definition first`);
    }
    const encoding = {
      type: reg.type,
      wordOrder: reg.wordOrder ?? definition.defaults.wordOrder,
      byteOrder: reg.byteOrder ?? definition.defaults.byteOrder,
    };
    return Object.freeze({
      measurement,
      function: reg.function,
      address: reg.address,
      count: registerCount(reg.type),
      encoding,
      factor: (reg.scale ?? 1) * unit,
      decode: compileDecoder(encoding),
      source: reg,
    });
  });
  const byMeasurement = new Map(registers.map((r) => [r.measurement.id, r]));
  const aliases = new Map<string, CompiledRegister>();
  for (const r of registers) {
    for (const name of [r.measurement.id, r.measurement.label, ...(r.source.legacyNames ?? [])]) {
      const key = normalizeName(name);
      if (!aliases.has(key)) aliases.set(key, r);
    }
  }
  return Object.freeze({
    definition,
    id: definition.id,
    registers: Object.freeze(registers),
    byMeasurement,
    resolve: (name: string) => byMeasurement.get(name) ?? aliases.get(normalizeName(name)),
  });
}
