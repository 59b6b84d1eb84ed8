/**
 * The on-disk form of one reading row's values: a sequence of entries, each a
 * 16-bit measurement code followed by the value. The code's top bit says the
 * value is stored as float32 (4 bytes), which happens when float32 holds it
 * exactly (every SDM value: the meters send float32); otherwise float64 (8
 * bytes). A full SDM630 reading packs into about 6 bytes per value.
 */

const F32_FLAG = 0x8000;
const CODE_MASK = 0x7fff;
const scratch = new Float32Array(1);

/** Bytes one entry takes: 6 when float32 holds the value exactly, 10 otherwise. */
export function entrySize(v: number): number {
  scratch[0] = v;
  return scratch[0] === v ? 6 : 10;
}

/** Writes one entry at `o`; returns the offset after it. The only writer of the format. */
export function writeEntry(buf: Buffer, o: number, code: number, v: number): number {
  scratch[0] = v;
  if (scratch[0] === v) {
    buf.writeUInt16BE(code | F32_FLAG, o);
    buf.writeFloatBE(v, o + 2);
    return o + 6;
  }
  buf.writeUInt16BE(code & CODE_MASK, o);
  buf.writeDoubleBE(v, o + 2);
  return o + 10;
}

/** Packs code → value pairs. Codes are small integers assigned per database. */
export function packValues(entries: ReadonlyArray<readonly [number, number]>): Buffer {
  let size = 0;
  for (const [, v] of entries) size += entrySize(v);
  const buf = Buffer.allocUnsafe(size);
  let o = 0;
  for (const [code, v] of entries) o = writeEntry(buf, o, code, v);
  return buf;
}

/** Calls `fn(code, value)` for every entry of a packed row. */
export function forEachPacked(buf: Uint8Array, fn: (code: number, value: number) => void): void {
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  let o = 0;
  while (o + 2 <= b.length) {
    const head = b.readUInt16BE(o);
    if (head & F32_FLAG) {
      fn(head & CODE_MASK, b.readFloatBE(o + 2));
      o += 6;
    } else {
      fn(head, b.readDoubleBE(o + 2));
      o += 10;
    }
  }
}

/** Unpacks into a code → value map. */
export function unpackValues(buf: Uint8Array): Map<number, number> {
  const out = new Map<number, number>();
  forEachPacked(buf, (c, v) => out.set(c, v));
  return out;
}

/**
 * Merges a re-submitted row into a stored one: values of the new submission
 * replace stored values of the same measurement, measurements only in the
 * stored row are kept. (Documented: a corrected re-submission wins.)
 */
export function mergePacked(stored: Uint8Array, incoming: Uint8Array): Buffer {
  const merged = unpackValues(stored);
  forEachPacked(incoming, (c, v) => merged.set(c, v));
  return packValues([...merged.entries()].sort((a, b) => a[0] - b[0]));
}
