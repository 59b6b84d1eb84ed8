import { RegisterImage, type CompiledDriver, type RegisterFunction } from '@meterhub/sdk';
import type { LatestView } from './host-source.js';

/** Modbus exception codes this server answers with. */
export const EXCEPTION = {
  ILLEGAL_FUNCTION: 0x01,
  ILLEGAL_DATA_ADDRESS: 0x02,
  ILLEGAL_DATA_VALUE: 0x03,
  GATEWAY_TARGET_FAILED: 0x0b,
} as const;

/** What a read gives: the registers as 16-bit words, or an exception code. */
export type Answer = readonly number[] | number;

/**
 * One meter served under one unit id: its driver's register map (measurement
 * registers only) encoded from the latest values. Answers are cached until a
 * newer reading arrives, so clients polling faster than the meter pay for the
 * encoding once per reading.
 */
export class ServedMeter {
  readonly #map: DriverMap;
  #power: LatestView | undefined;
  #energy: LatestView | undefined;
  readonly #cache = new Map<number, Answer>();

  constructor(readonly meterId: string, readonly unitId: number, readonly driver: CompiledDriver) {
    this.#map = driverMap(driver);
  }

  /**
   * Answers a read from the given latest values. Gaps between documented
   * registers follow the driver (zero-filled for SDM meters, as the meters do);
   * a read that covers no documented register at all is refused with 02.
   */
  read(fn: RegisterFunction, address: number, count: number, power: LatestView | undefined, energy: LatestView | undefined): Answer {
    if (power !== this.#power || energy !== this.#energy) {
      this.#power = power;
      this.#energy = energy;
      this.#cache.clear();
    }
    const key = (fn === 'input' ? 0x1000000 : 0) + address * 0x100 + count;
    let answer = this.#cache.get(key);
    if (answer === undefined) {
      answer = this.#encode(fn, address, count, power, energy);
      // Bounded: a client walking the address space must not grow it without end.
      if (this.#cache.size >= MAX_CACHED) this.#cache.clear();
      this.#cache.set(key, answer);
    }
    return answer;
  }

  #encode(fn: RegisterFunction, address: number, count: number, power: LatestView | undefined, energy: LatestView | undefined): Answer {
    const below = this.#map.mappedBelow[fn];
    if (address + count > 0x10000 || below[address + count]! === below[address]!) return EXCEPTION.ILLEGAL_DATA_ADDRESS;
    // A value the meter is not set to poll is sent as NaN (all ones for integers), what meters send for a value they lack.
    const value = (m: string) => power?.values[m] ?? energy?.values[m] ?? Number.NaN;
    const result = this.#map.image.read(fn, address, count, value);
    if ('exception' in result) return result.exception;
    const words = new Array<number>(count);
    for (let i = 0; i < count; i++) words[i] = result.data.readUInt16BE(i * 2);
    return words;
  }
}

const MAX_CACHED = 256;

/** A driver's register image and address index, shared by every meter of that driver. */
interface DriverMap {
  image: RegisterImage;
  /** Per function: how many mapped addresses lie below each address (a read covering none is refused). */
  mappedBelow: Record<RegisterFunction, Uint32Array>;
}

const maps = new WeakMap<CompiledDriver, DriverMap>();

function driverMap(driver: CompiledDriver): DriverMap {
  let map = maps.get(driver);
  if (!map) {
    // Configuration registers (slave id, baud code …) are left out: their true
    // values are on the meter, which is not asked; defaults would mislead.
    const measurementsOnly = { ...driver, definition: { ...driver.definition, configRegisters: [] } };
    map = {
      image: new RegisterImage(measurementsOnly, driver.definition.limits.gaps),
      mappedBelow: { input: mappedBelow(driver, 'input'), holding: mappedBelow(driver, 'holding') },
    };
    maps.set(driver, map);
  }
  return map;
}

function mappedBelow(driver: CompiledDriver, fn: RegisterFunction): Uint32Array {
  const mapped = new Uint8Array(0x10000);
  for (const r of driver.registers) if (r.function === fn) mapped.fill(1, r.address, r.address + r.count);
  const below = new Uint32Array(0x10001);
  for (let a = 0; a < 0x10000; a++) below[a + 1] = below[a]! + mapped[a]!;
  return below;
}
