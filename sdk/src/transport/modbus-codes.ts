import { MeterhubError } from '../errors/error-catalog.js';

/** Function codes meterhub speaks. */
export const FC = {
  READ_HOLDING: 0x03,
  READ_INPUT: 0x04,
  WRITE_SINGLE: 0x06,
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
