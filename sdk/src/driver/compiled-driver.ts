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
  /**
   * Like {@link resolve}, and a quantity without a phase ("Voltage", "current")
   * on a meter that only has per-phase registers for it resolves to all of
   * them (`voltageL1`, `voltageL2`, `voltageL3`): what the old logger's names
   * meant on a three-phase meter. Empty when nothing matches.
   */
  resolveAll(name: string): readonly CompiledRegister[];
  /** Every name {@link resolve} accepts (ids, labels, legacy names), for suggestions. */
  readonly names: readonly string[];
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
  // Per-phase groups, keyed by the quantity's id and label ("voltage", "Voltage"):
  // only where the meter has no whole-system register of that name.
  const phaseGroups = new Map<string, CompiledRegister[]>();
  for (const r of registers) {
    const m = r.measurement;
    if (!m.phase || !/^L[123]$/.test(m.phase) || m.tariff) continue;
    const base = m.label.slice(0, m.label.length - m.phase.length).trim();
    for (const key of new Set([normalizeName(m.quantity), normalizeName(base)])) {
      if (aliases.has(key)) continue;
      const group = phaseGroups.get(key) ?? [];
      group.push(r);
      phaseGroups.set(key, group);
    }
  }
  const resolve = (name: string): CompiledRegister | undefined => byMeasurement.get(name) ?? aliases.get(normalizeName(name));
  const names = [...new Set(registers.flatMap((r) => [r.measurement.id, ...(r.source.legacyNames ?? [])]))];
  return Object.freeze({
    definition,
    id: definition.id,
    registers: Object.freeze(registers),
    byMeasurement,
    resolve,
    resolveAll: (name: string) => {
      const one = resolve(name);
      return one ? [one] : phaseGroups.get(normalizeName(name)) ?? [];
    },
    names: Object.freeze(names),
  });
}
