/**
 * Register value codecs. Modbus moves 16-bit registers, each sent high byte
 * first; how a wider value is split over registers differs per vendor. Eastron
 * sends IEEE-754 floats high word first (ABCD); other meters swap the words
 * (CDAB) or the bytes inside each word (BADC, DCBA).
 */

export const REGISTER_TYPES = [
  'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'float32', 'float64',
] as const;
export type RegisterType = (typeof REGISTER_TYPES)[number];

/** Order of the 16-bit words of a multi-register value. */
export type WordOrder = 'high-first' | 'low-first';
/** Order of the two bytes inside each 16-bit word. */
export type ByteOrder = 'big' | 'little';

export interface RegisterEncoding {
  type: RegisterType;
  wordOrder?: WordOrder;
  byteOrder?: ByteOrder;
}

const WORDS: Readonly<Record<RegisterType, number>> = {
  int16: 1, uint16: 1, int32: 2, uint32: 2, int64: 4, uint64: 4, float32: 2, float64: 4,
};

/** Number of 16-bit registers a value of this type occupies. */
export function registerCount(type: RegisterType): number {
  return WORDS[type];
}

type Reader = (buf: Buffer, offset: number) => number;
type Writer = (buf: Buffer, value: number, offset: number) => void;

const READ_BE: Readonly<Record<RegisterType, Reader>> = {
  int16: (b, o) => b.readInt16BE(o),
  uint16: (b, o) => b.readUInt16BE(o),
  int32: (b, o) => b.readInt32BE(o),
  uint32: (b, o) => b.readUInt32BE(o),
  int64: (b, o) => Number(b.readBigInt64BE(o)),
  uint64: (b, o) => Number(b.readBigUInt64BE(o)),
  float32: (b, o) => b.readFloatBE(o),
  float64: (b, o) => b.readDoubleBE(o),
};

const WRITE_BE: Readonly<Record<RegisterType, Writer>> = {
  int16: (b, v, o) => b.writeInt16BE(Math.round(v), o),
  uint16: (b, v, o) => b.writeUInt16BE(Math.round(v), o),
  int32: (b, v, o) => b.writeInt32BE(Math.round(v), o),
  uint32: (b, v, o) => b.writeUInt32BE(Math.round(v), o),
  int64: (b, v, o) => b.writeBigInt64BE(BigInt(Math.round(v)), o),
  uint64: (b, v, o) => b.writeBigUInt64BE(BigInt(Math.round(v)), o),
  float32: (b, v, o) => b.writeFloatBE(v, o),
  float64: (b, v, o) => b.writeDoubleBE(v, o),
};

const INTEGER_RANGE: Partial<Record<RegisterType, [number, number]>> = {
  int16: [-0x8000, 0x7fff],
  uint16: [0, 0xffff],
  int32: [-0x80000000, 0x7fffffff],
  uint32: [0, 0xffffffff],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  uint64: [0, Number.MAX_SAFE_INTEGER],
};

/**
 * Reorders the bytes of one value between wire order and canonical big-endian
 * (high word first, high byte first). The permutation is its own inverse, so
 * the same function serves decode and encode.
 */
function permute(src: Buffer, srcOffset: number, words: number, enc: RegisterEncoding, dst: Buffer): void {
  const lowFirst = enc.wordOrder === 'low-first';
  const little = enc.byteOrder === 'little';
  for (let i = 0; i < words; i++) {
    const from = srcOffset + 2 * (lowFirst ? words - 1 - i : i);
    const hi = src[from] ?? 0;
    const lo = src[from + 1] ?? 0;
    dst[2 * i] = little ? lo : hi;
    dst[2 * i + 1] = little ? hi : lo;
  }
}

const isCanonical = (enc: RegisterEncoding): boolean =>
  (enc.wordOrder ?? 'high-first') === 'high-first' && (enc.byteOrder ?? 'big') === 'big';

/**
 * Builds a decoder for one register encoding: `(data, byteOffset) => value`,
 * where `data` holds register bytes as they came off the wire. Drivers compile
 * their decoders once at load, so polling does no lookups per value.
 */
export function compileDecoder(enc: RegisterEncoding): Reader {
  const read = READ_BE[enc.type];
  if (isCanonical(enc) || WORDS[enc.type] === 1 && enc.byteOrder !== 'little') return read;
  const words = WORDS[enc.type];
  const scratch = Buffer.alloc(words * 2);
  return (buf, offset) => {
    permute(buf, offset, words, enc, scratch);
    return read(scratch, 0);
  };
}

/** Decodes one value from register bytes as they came off the wire. */
export function decodeRegisters(buf: Buffer, offset: number, enc: RegisterEncoding): number {
  return compileDecoder(enc)(buf, offset);
}

/**
 * Encodes one value into register bytes in wire order. Integer types round and
 * throw a RangeError for a value they cannot hold rather than wrapping silently.
 */
export function encodeRegisters(value: number, enc: RegisterEncoding): Buffer {
  const words = WORDS[enc.type];
  const range = INTEGER_RANGE[enc.type];
  if (range && (!Number.isFinite(value) || value < range[0] || value > range[1])) {
    throw new RangeError(`${value} does not fit in ${enc.type}`);
  }
  const canonical = Buffer.alloc(words * 2);
  WRITE_BE[enc.type](canonical, value, 0);
  if (isCanonical(enc)) return canonical;
  const wire = Buffer.alloc(words * 2);
  permute(canonical, 0, words, enc, wire);
  return wire;
}
