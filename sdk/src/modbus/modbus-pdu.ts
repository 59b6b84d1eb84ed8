import { MeterhubError } from '../errors/error-catalog.js';

/** Function codes meterhub speaks. */
export const FC = {
  READ_HOLDING: 0x03,
  READ_INPUT: 0x04,
  DIAGNOSTICS: 0x08,
  WRITE_MULTIPLE: 0x10,
} as const;

/** Modbus exception codes. */
export const EXCEPTION = {
  ILLEGAL_FUNCTION: 0x01,
  ILLEGAL_DATA_ADDRESS: 0x02,
  ILLEGAL_DATA_VALUE: 0x03,
  SLAVE_DEVICE_FAILURE: 0x04,
  GATEWAY_TARGET_FAILED: 0x0b,
} as const;

const EXCEPTION_TEXT: Record<number, string> = {
  1: 'illegal function',
  2: 'illegal data address',
  3: 'illegal data value',
  4: 'slave device failure',
  5: 'acknowledge',
  6: 'slave device busy',
  10: 'gateway path unavailable',
  11: 'gateway target device failed to respond',
};

/** A device answered with exception `exceptionCode`; carries the code for the scheduler's split logic. */
export class ModbusExceptionError extends MeterhubError {
  readonly exceptionCode: number;
  readonly functionCode: number;

  constructor(functionCode: number, exceptionCode: number) {
    super('METERHUB_ERR_MODBUS_EXCEPTION', `exception ${exceptionCode} (${EXCEPTION_TEXT[exceptionCode] ?? 'unknown'}) for function ${functionCode}`);
    this.exceptionCode = exceptionCode;
    this.functionCode = functionCode;
  }
}

/** A request as a server sees it after framing is removed. */
export interface ModbusRequest {
  unitId: number;
  functionCode: number;
  address: number;
  count: number;
  /** Register bytes of a write, or the diagnostics payload. */
  data?: Buffer;
}

/** PDU of a read request (function 03 or 04). */
export function readRequestPdu(functionCode: number, address: number, count: number): Buffer {
  const pdu = Buffer.alloc(5);
  pdu[0] = functionCode;
  pdu.writeUInt16BE(address, 1);
  pdu.writeUInt16BE(count, 3);
  return pdu;
}

/** PDU of a write-multiple-registers request (function 16). */
export function writeRequestPdu(address: number, data: Buffer): Buffer {
  const pdu = Buffer.alloc(6 + data.length);
  pdu[0] = FC.WRITE_MULTIPLE;
  pdu.writeUInt16BE(address, 1);
  pdu.writeUInt16BE(data.length / 2, 3);
  pdu[5] = data.length;
  data.copy(pdu, 6);
  return pdu;
}

/**
 * Parses a request PDU on the server side. Returns `undefined` for a function
 * code it does not know (the caller answers exception 01) and throws for a
 * malformed body.
 */
export function parseRequestPdu(unitId: number, pdu: Buffer): ModbusRequest | undefined {
  const fc = pdu[0] ?? 0;
  if (fc === FC.READ_HOLDING || fc === FC.READ_INPUT) {
    if (pdu.length < 5) throw new MeterhubError('METERHUB_ERR_MODBUS_FRAME', 'short read request');
    return { unitId, functionCode: fc, address: pdu.readUInt16BE(1), count: pdu.readUInt16BE(3) };
  }
  if (fc === FC.WRITE_MULTIPLE) {
    if (pdu.length < 6 || pdu.length < 6 + pdu[5]!) throw new MeterhubError('METERHUB_ERR_MODBUS_FRAME', 'short write request');
    return { unitId, functionCode: fc, address: pdu.readUInt16BE(1), count: pdu.readUInt16BE(3), data: pdu.subarray(6, 6 + pdu[5]!) };
  }
  if (fc === FC.DIAGNOSTICS) {
    return { unitId, functionCode: fc, address: pdu.length >= 3 ? pdu.readUInt16BE(1) : 0, count: 0, data: pdu.subarray(3) };
  }
  return undefined;
}

/** PDU of a read response carrying register bytes. */
export function readResponsePdu(functionCode: number, data: Buffer): Buffer {
  return Buffer.concat([Buffer.from([functionCode, data.length]), data]);
}

export function exceptionPdu(functionCode: number, exceptionCode: number): Buffer {
  return Buffer.from([functionCode | 0x80, exceptionCode]);
}

/**
 * Checks a response PDU against the request it answers and returns the
 * register bytes of a read. Throws ModbusExceptionError for an exception reply
 * and a frame error for anything that does not match.
 */
export function parseResponsePdu(functionCode: number, count: number, pdu: Buffer): Buffer {
  const fc = pdu[0];
  if (fc === (functionCode | 0x80)) throw new ModbusExceptionError(functionCode, pdu[1] ?? 0);
  if (fc !== functionCode) {
    throw new MeterhubError('METERHUB_ERR_MODBUS_FRAME', `response has function ${fc}, expected ${functionCode}`);
  }
  if (functionCode === FC.READ_HOLDING || functionCode === FC.READ_INPUT) {
    const byteCount = pdu[1] ?? 0;
    if (byteCount !== count * 2 || pdu.length < 2 + byteCount) {
      throw new MeterhubError('METERHUB_ERR_MODBUS_FRAME', `response carries ${byteCount} bytes, expected ${count * 2}`);
    }
    return pdu.subarray(2, 2 + byteCount);
  }
  return pdu.subarray(1);
}
