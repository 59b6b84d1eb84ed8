import { encodeRegisters, registerCount, type RegisterEncoding } from '../codec/register-codec.js';
import type { CompiledDriver } from '../driver/compiled-driver.js';
import type { ConfigRegisterDefinition, GapBehaviour, RegisterFunction } from '../driver/driver-types.js';
import { EXCEPTION } from '../transport/modbus-codes.js';

/** One value in the meter's address space: a measurement or a configuration register. */
interface Slot {
  start: number;
  count: number;
  encoding: RegisterEncoding;
  /** Vocabulary measurement, for values that come from the model. */
  measurement?: string;
  /** Converts a vocabulary value back to the raw register value. */
  toRaw: number;
  config?: ConfigRegisterDefinition;
}

export type ReadResult = { data: Buffer } | { exception: number };

/**
 * The address space of one simulated meter, built from its driver. It applies
 * the rules SDM meters follow: start and count aligned, at most the driver's
 * registers per request, never part of a value, and undocumented addresses
 * either zero-filled (what meters do in the field) or refused with exception 02
 * (what the datasheet says).
 */
export class RegisterImage {
  readonly #owners: Record<RegisterFunction, Int32Array>;
  readonly #slots: Slot[] = [];
  readonly #config = new Map<string, number>();

  constructor(readonly driver: CompiledDriver, readonly gaps: GapBehaviour) {
    this.#owners = { input: new Int32Array(0x10000).fill(-1), holding: new Int32Array(0x10000).fill(-1) };
    for (const r of driver.registers) {
      this.#add(r.function, { start: r.address, count: r.count, encoding: r.encoding, measurement: r.measurement.id, toRaw: 1 / r.factor });
    }
    const defaults = driver.definition.defaults;
    for (const c of driver.definition.configRegisters ?? []) {
      this.#config.set(c.name, c.default ?? 0);
      const encoding = { type: c.type, wordOrder: c.wordOrder ?? defaults.wordOrder, byteOrder: c.byteOrder ?? defaults.byteOrder };
      this.#add('holding', { start: c.address, count: registerCount(c.type), encoding, toRaw: 1, config: c });
    }
  }

  #add(fn: RegisterFunction, slot: Slot): void {
    const index = this.#slots.push(slot) - 1;
    for (let a = slot.start; a < slot.start + slot.count; a++) this.#owners[fn][a] = index;
  }

  /** Current value of a configuration register, by name. */
  configValue(name: string): number | undefined {
    return this.#config.get(name);
  }

  #checkRange(address: number, count: number): number | undefined {
    const { maxRegistersPerRequest, alignment } = this.driver.definition.limits;
    if (count < 1 || count > maxRegistersPerRequest || address + count > 0x10000) return EXCEPTION.ILLEGAL_DATA_ADDRESS;
    if (address % alignment !== 0 || count % alignment !== 0) return EXCEPTION.ILLEGAL_DATA_ADDRESS;
    return undefined;
  }

  /** Answers a read of `count` registers from `address`; `value(id)` supplies live measurement values. */
  read(fn: RegisterFunction, address: number, count: number, value: (measurement: string) => number): ReadResult {
    const bad = this.#checkRange(address, count);
    if (bad !== undefined) return { exception: bad };
    const owners = this.#owners[fn];
    const data = Buffer.alloc(count * 2);
    const end = address + count;
    let a = address;
    while (a < end) {
      const index = owners[a]!;
      if (index < 0) {
        if (this.gaps === 'exception') return { exception: EXCEPTION.ILLEGAL_DATA_ADDRESS };
        a++;
        continue;
      }
      const slot = this.#slots[index]!;
      // Reading half of a float is what the datasheet's exception 02 is for.
      if (slot.start < address || slot.start + slot.count > end) return { exception: EXCEPTION.ILLEGAL_DATA_ADDRESS };
      const raw = slot.config ? this.#config.get(slot.config.name) ?? 0 : value(slot.measurement!) * slot.toRaw;
      this.#encodeInto(data, (slot.start - address) * 2, raw, slot.encoding);
      a = slot.start + slot.count;
    }
    return { data };
  }

  #encodeInto(data: Buffer, offset: number, raw: number, encoding: RegisterEncoding): void {
    try {
      encodeRegisters(raw, encoding).copy(data, offset);
    } catch {
      // An integer register cannot hold the value (NaN fault, overflow): meters send all ones.
      data.fill(0xff, offset, offset + registerCount(encoding.type) * 2);
    }
  }

  /**
   * Applies a write-multiple request to configuration registers. Refuses writes
   * to undocumented or read-only registers (02) and values outside what the
   * datasheet allows (03).
   */
  write(address: number, data: Buffer, decode: (buf: Buffer, offset: number, enc: RegisterEncoding) => number): number | undefined {
    const count = data.length / 2;
    const bad = this.#checkRange(address, count);
    if (bad !== undefined) return bad;
    const updates: Array<[string, number]> = [];
    let a = address;
    while (a < address + count) {
      const index = this.#owners.holding[a]!;
      const slot = index >= 0 ? this.#slots[index] : undefined;
      const c = slot?.config;
      if (!slot || !c || c.access === 'r' || slot.start !== a || slot.start + slot.count > address + count) return EXCEPTION.ILLEGAL_DATA_ADDRESS;
      const v = decode(data, (a - address) * 2, slot.encoding);
      if ((c.allowed && !c.allowed.includes(v)) || (c.range && (v < c.range[0] || v > c.range[1]))) return EXCEPTION.ILLEGAL_DATA_VALUE;
      if (c.values && !(String(v) in c.values)) return EXCEPTION.ILLEGAL_DATA_VALUE;
      updates.push([c.name, v]);
      a += slot.count;
    }
    for (const [name, v] of updates) this.#config.set(name, v);
    return undefined;
  }
}
