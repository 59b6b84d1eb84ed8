import { decodeRegisters } from '../codec/register-codec.js';
import type { CompiledDriver } from '../driver/compiled-driver.js';
import type { GapBehaviour } from '../driver/driver-types.js';
import { EXCEPTION, FC } from '../transport/modbus-codes.js';
import { MeterModel } from './meter-model.js';
import { RegisterImage } from './register-image.js';

/** Faults a test can switch on and off per unit while the simulator runs. */
export interface UnitFaults {
  /** Never answer (the master times out). */
  silent?: boolean;
  /** Answer this many milliseconds late. */
  delayMs?: number;
  /** Answer every request with this exception code. */
  exception?: number;
  /** Send RTU replies with a wrong CRC (no effect on Modbus TCP, which has none). */
  corruptCrc?: boolean;
  /** Close the TCP connection instead of answering (on serial lines: stay silent). */
  dropConnection?: boolean;
  /** Serve NaN for every float value (what meters send while a value is unavailable). */
  nan?: boolean;
}

export interface UnitOptions {
  gaps?: GapBehaviour;
  seed?: number;
  /** Override the model's mean load current per phase. */
  baseCurrentA?: number;
}

/** One simulated meter at one unit id. */
export class SimulatedUnit {
  readonly model: MeterModel;
  readonly image: RegisterImage;
  faults: UnitFaults = {};
  readonly #pinned = new Map<string, number>();
  requests = 0;

  constructor(readonly unitId: number, readonly driver: CompiledDriver, options: UnitOptions = {}) {
    const threePhase = driver.registers.some((r) => r.measurement.phase === 'L2' || r.measurement.phase === 'L3');
    this.model = new MeterModel({ phases: threePhase ? 3 : 1, seed: options.seed ?? unitId, ...(options.baseCurrentA ? { baseCurrentA: options.baseCurrentA } : {}) });
    this.image = new RegisterImage(driver, options.gaps ?? driver.definition.limits.gaps);
  }

  /** Pins a measurement to a fixed value (vocabulary units) until unpinned. */
  pin(measurement: string, value: number): this {
    this.#pinned.set(measurement, value);
    return this;
  }

  unpin(measurement?: string): this {
    if (measurement) this.#pinned.delete(measurement);
    else this.#pinned.clear();
    return this;
  }

  /** What the unit serves right now, in vocabulary units (pins applied), advancing the model to `now`. */
  snapshot(now = Date.now()): Map<string, number> {
    this.model.advance(now);
    const values = this.model.values();
    for (const [k, v] of this.#pinned) values.set(k, v);
    if (this.faults.nan) for (const k of values.keys()) values.set(k, Number.NaN);
    return values;
  }

  /** Answers one request, ignoring faults (they are applied by the simulator). */
  answer(request: ModbusRequest, now = Date.now()): SimulatorAnswer {
    const fc = request.functionCode;
    if (fc === FC.READ_INPUT || fc === FC.READ_HOLDING) {
      const values = this.snapshot(now);
      const result = this.image.read(fc === FC.READ_INPUT ? 'input' : 'holding', request.address, request.count, (id) => values.get(id) ?? 0);
      return 'data' in result ? { registers: result.data } : { exception: result.exception };
    }
    if (fc === FC.WRITE_MULTIPLE) {
      const words = request.values ?? [];
      if (words.length !== request.count) return { exception: EXCEPTION.ILLEGAL_DATA_VALUE };
      const data = Buffer.alloc(words.length * 2);
      words.forEach((w, i) => data.writeUInt16BE(w & 0xffff, i * 2));
      const ex = this.image.write(request.address, data, decodeRegisters);
      return ex === undefined ? { written: true } : { exception: ex };
    }
    return { exception: EXCEPTION.ILLEGAL_FUNCTION };
  }
}

/** A request as a server sees it once its framing is removed. */
export interface ModbusRequest {
  unitId: number;
  functionCode: number;
  address: number;
  count: number;
  /** Register values of a write. */
  values?: number[];
}

/** A unit's answer: register bytes of a read, the acknowledgement of a write, or an exception code. */
export type SimulatorAnswer = { registers: Buffer } | { written: true } | { exception: number };

/** What an endpoint should do with a request. */
export type SimulatorReply =
  | { kind: 'reply'; answer: SimulatorAnswer; delayMs: number; corruptCrc: boolean }
  | { kind: 'silent' }
  | { kind: 'drop' };

/**
 * Serves any number of simulated meters, each at its own unit id, to one or
 * more endpoints (Modbus TCP, RTU over a serial port, RTU over TCP). A request
 * to a unit id that is not there gets no answer, as on a real bus.
 */
export class MeterSimulator {
  readonly units = new Map<number, SimulatedUnit>();

  addUnit(unitId: number, driver: CompiledDriver, options: UnitOptions = {}): SimulatedUnit {
    const unit = new SimulatedUnit(unitId, driver, options);
    this.units.set(unitId, unit);
    return unit;
  }

  removeUnit(unitId: number): void {
    this.units.delete(unitId);
  }

  unit(unitId: number): SimulatedUnit {
    const u = this.units.get(unitId);
    if (!u) throw new Error(`no simulated unit ${unitId}`);
    return u;
  }

  /** Decides the answer to one request; a unit id nobody serves stays silent, as on a real bus. */
  handle(request: ModbusRequest): SimulatorReply {
    const unit = this.units.get(request.unitId);
    if (!unit) return { kind: 'silent' };
    unit.requests++;
    const f = unit.faults;
    if (f.silent) return { kind: 'silent' };
    if (f.dropConnection) return { kind: 'drop' };
    const answer = f.exception !== undefined ? { exception: f.exception } : unit.answer(request);
    return { kind: 'reply', answer, delayMs: f.delayMs ?? 0, corruptCrc: f.corruptCrc ?? false };
  }
}
