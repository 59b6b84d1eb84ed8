import type { RegisterFunction } from '@meterhub/sdk';
import type { IServiceVector } from 'modbus-serial';
import type { HostSource } from './host-source.js';
import { EXCEPTION, type Answer } from './served-meter.js';
import type { UnitTable } from './unit-table.js';

/** The Modbus limit on registers per read (the library does not enforce it). */
const MAX_READ = 125;

/** An exception reply: `modbus-serial` sends the code it finds in `modbusErrorCode`. */
class ModbusException extends Error {
  constructor(readonly modbusErrorCode: number) {
    super(`Modbus exception ${modbusErrorCode}`);
  }
}

export interface VectorOptions {
  table: () => UnitTable;
  source: HostSource;
  /** Values older than this are not served (0 = no limit). */
  maxAgeMs: number;
  /** Told when a client asks for a unit id no meter has, so the meter list can be looked up again. */
  onUnknownUnit: (unitId: number) => void;
}

/**
 * The `modbus-serial` service vector: reads of input (04) and holding (03)
 * registers answered from memory, every write refused with 01. The
 * multi-register getters are synchronous on purpose: the library does not
 * accept a promise of an array.
 */
export function registerVector(opts: VectorOptions): IServiceVector {
  const { source } = opts;
  const answer = (fn: RegisterFunction, address: number, count: number, unitId: number): readonly number[] => {
    if (count > MAX_READ) throw new ModbusException(EXCEPTION.ILLEGAL_DATA_VALUE);
    const served = opts.table().byUnit.get(unitId);
    if (!served) {
      opts.onUnknownUnit(unitId);
      throw new ModbusException(EXCEPTION.GATEWAY_TARGET_FAILED);
    }
    const id = served.meterId;
    if (source.failed(id)) throw new ModbusException(EXCEPTION.GATEWAY_TARGET_FAILED);
    const power = source.power(id);
    const energy = source.energy(id);
    const newest = Math.max(power?.ts ?? 0, energy?.ts ?? 0);
    if (newest === 0 || (opts.maxAgeMs > 0 && Date.now() - newest > opts.maxAgeMs)) throw new ModbusException(EXCEPTION.GATEWAY_TARGET_FAILED);
    const result: Answer = served.read(fn, address, count, power, energy);
    if (typeof result === 'number') throw new ModbusException(result);
    return result;
  };
  const readOnly = (): never => {
    throw new ModbusException(EXCEPTION.ILLEGAL_FUNCTION);
  };
  const noBits = (): never => {
    // Meters have no coils or discrete inputs.
    throw new ModbusException(EXCEPTION.ILLEGAL_FUNCTION);
  };
  // Arity matters: the library picks the callback style by `fn.length`, so these take exactly (addr, [len,] unit).
  return {
    getInputRegister: (addr: number, unit: number) => answer('input', addr, 1, unit)[0]!,
    getHoldingRegister: (addr: number, unit: number) => answer('holding', addr, 1, unit)[0]!,
    getMultipleInputRegisters: (addr: number, len: number, unit: number) => answer('input', addr, len, unit) as number[],
    getMultipleHoldingRegisters: (addr: number, len: number, unit: number) => answer('holding', addr, len, unit) as number[],
    getCoil: noBits,
    getDiscreteInput: noBits,
    setCoil: readOnly,
    setRegister: readOnly,
    setRegisterArray: readOnly,
  };
}
