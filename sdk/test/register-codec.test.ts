import { expect } from 'chai';
import {
  compileDecoder, decodeRegisters, encodeRegisters, registerCount, REGISTER_TYPES,
  type ByteOrder, type RegisterType, type WordOrder,
} from '../src/index.js';

const SAMPLES: Record<RegisterType, number[]> = {
  int16: [0, 1, -1, 12345, -32768, 32767],
  uint16: [0, 1, 65535, 40000],
  int32: [0, -1, 2147483647, -2147483648, 123456789],
  uint32: [0, 4294967295, 305419896],
  int64: [0, -1, 9007199254740991, -9007199254740991, 1234567890123],
  uint64: [0, 9007199254740991, 1234567890123],
  float32: [0, 230.19999694824219, -1.5, 3.4028234663852886e38, Math.fround(1e-30)],
  float64: [0, Math.PI, -1e300, 5e-324],
};
const WORD_ORDERS: WordOrder[] = ['high-first', 'low-first'];
const BYTE_ORDERS: ByteOrder[] = ['big', 'little'];

describe('register codec', () => {
  it('knows how many registers each type occupies', () => {
    expect(REGISTER_TYPES.map((t) => registerCount(t))).to.deep.equal([1, 1, 2, 2, 4, 4, 2, 4]);
  });

  for (const type of REGISTER_TYPES) {
    for (const wordOrder of WORD_ORDERS) {
      for (const byteOrder of BYTE_ORDERS) {
        it(`round-trips ${type} ${wordOrder} ${byteOrder}`, () => {
          for (const value of SAMPLES[type]) {
            const wire = encodeRegisters(value, { type, wordOrder, byteOrder });
            expect(wire.length).to.equal(registerCount(type) * 2);
            // Decoding at an offset inside a larger response, as the poller does.
            const frame = Buffer.concat([Buffer.from([0xaa, 0xbb]), wire, Buffer.from([0xcc])]);
            expect(compileDecoder({ type, wordOrder, byteOrder })(frame, 2)).to.equal(value);
          }
        });
      }
    }
  }

  it('decodes the datasheet example: 43 66 33 34 is 230.2 V (ABCD)', () => {
    const v = decodeRegisters(Buffer.from('43663334', 'hex'), 0, { type: 'float32' });
    expect(v).to.be.closeTo(230.2, 1e-4);
  });

  it('places words and bytes as each order requires', () => {
    // 0x11223344 in the four classic layouts.
    const hex = (w: WordOrder, b: ByteOrder) => encodeRegisters(0x11223344, { type: 'uint32', wordOrder: w, byteOrder: b }).toString('hex');
    expect(hex('high-first', 'big')).to.equal('11223344'); // ABCD
    expect(hex('low-first', 'big')).to.equal('33441122'); // CDAB
    expect(hex('high-first', 'little')).to.equal('22114433'); // BADC
    expect(hex('low-first', 'little')).to.equal('44332211'); // DCBA
  });

  it('decodes signed 16-bit values and 64-bit integers', () => {
    expect(decodeRegisters(Buffer.from('ff85', 'hex'), 0, { type: 'int16' })).to.equal(-123);
    expect(decodeRegisters(Buffer.from('0000000000000001', 'hex'), 0, { type: 'uint64', wordOrder: 'high-first' })).to.equal(1);
    expect(decodeRegisters(Buffer.from('0001000000000000', 'hex'), 0, { type: 'uint64', wordOrder: 'low-first' })).to.equal(1);
  });

  it('refuses integers that do not fit instead of wrapping', () => {
    expect(() => encodeRegisters(65536, { type: 'uint16' })).to.throw(RangeError);
    expect(() => encodeRegisters(-1, { type: 'uint32' })).to.throw(RangeError);
    expect(() => encodeRegisters(Number.NaN, { type: 'int16' })).to.throw(RangeError);
  });

  it('keeps NaN for floats (meters mark invalid values with it)', () => {
    const wire = encodeRegisters(Number.NaN, { type: 'float32' });
    expect(Number.isNaN(decodeRegisters(wire, 0, { type: 'float32' }))).to.equal(true);
  });
});
