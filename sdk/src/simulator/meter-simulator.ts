import { decodeRegisters } from '../codec/register-codec.js';
import type { CompiledDriver } from '../driver/compiled-driver.js';
import type { GapBehaviour } from '../driver/driver-types.js';
import {
  EXCEPTION, exceptionPdu, FC, parseRequestPdu, readResponsePdu, type ModbusRequest,
} from '../modbus/modbus-pdu.js';
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

  /** Answers one request PDU, ignoring faults (they are applied by the simulator). */
  answer(request: ModbusRequest, now = Date.now()): Buffer {
    const fc = request.functionCode;
    if (fc === FC.READ_INPUT || fc === FC.READ_HOLDING) {
      const values = this.snapshot(now);
      const result = this.image.read(fc === FC.READ_INPUT ? 'input' : 'holding', request.address, request.count, (id) => values.get(id) ?? 0);
      return 'data' in result ? readResponsePdu(fc, result.data) : exceptionPdu(fc, result.exception);
    }
    if (fc === FC.WRITE_MULTIPLE) {
      const data = request.data ?? Buffer.alloc(0);
      if (data.length !== request.count * 2) return exceptionPdu(fc, EXCEPTION.ILLEGAL_DATA_VALUE);
      const ex = this.image.write(request.address, data, decodeRegisters);
      if (ex !== undefined) return exceptionPdu(fc, ex);
      const pdu = Buffer.alloc(5);
      pdu[0] = fc;
      pdu.writeUInt16BE(request.address, 1);
      pdu.writeUInt16BE(request.count, 3);
      return pdu;
    }
    if (fc === FC.DIAGNOSTICS && request.address === 0) {
      // Sub-function 0 "return query data": echo the request.
      const pdu = Buffer.alloc(3 + (request.data?.length ?? 0));
      pdu[0] = fc;
      pdu.writeUInt16BE(0, 1);
      request.data?.copy(pdu, 3);
      return pdu;
    }
    return exceptionPdu(fc, EXCEPTION.ILLEGAL_FUNCTION);
  }
}

/** What an endpoint should do with a request. */
export type SimulatorReply =
  | { kind: 'reply'; pdu: Buffer; delayMs: number; corruptCrc: boolean }
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

  /** Decides the answer to one request PDU addressed to `unitId`. */
  handle(unitId: number, pdu: Buffer): SimulatorReply {
    const unit = this.units.get(unitId);
    if (!unit) return { kind: 'silent' };
    unit.requests++;
    const f = unit.faults;
    if (f.silent) return { kind: 'silent' };
    if (f.dropConnection) return { kind: 'drop' };
    const fc = pdu[0] ?? 0;
    let reply: Buffer;
    if (f.exception !== undefined) {
      reply = exceptionPdu(fc, f.exception);
    } else {
      let request: ModbusRequest | undefined;
      try {
        request = parseRequestPdu(unitId, pdu);
      } catch {
        return { kind: 'silent' };
      }
      reply = request ? unit.answer(request) : exceptionPdu(fc, EXCEPTION.ILLEGAL_FUNCTION);
    }
    return { kind: 'reply', pdu: reply, delayMs: f.delayMs ?? 0, corruptCrc: f.corruptCrc ?? false };
  }
}
