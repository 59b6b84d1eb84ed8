import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { PackedRow } from './reading-store.js';

/** `PGCOPY\n\377\r\n\0`, then a flags word and a header-extension length, both 0. */
const HEADER = Buffer.from([0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]);
/** Field count -1: the end of the data. */
const TRAILER = Buffer.from([0xff, 0xff]);
/** Per row besides the packed data: field count (2), then length + value of an int4 (8), an int8 (12) and the bytea's length (4). */
const ROW_OVERHEAD = 26;
/** Rows per buffer handed to the COPY stream: bounds memory for large batches. */
const ROWS_PER_CHUNK = 2000;
const TWO_32 = 2 ** 32;

/**
 * Encodes rows of a readings table (meter_ref INTEGER, ts BIGINT, data BYTEA)
 * in PostgreSQL's binary COPY format. Binary, not text: bytea in text COPY is
 * hex-escaped, doubling the bytes sent and parsed.
 */
function encodeRows(rows: readonly PackedRow[], first: boolean, last: boolean): Buffer {
  let size = (first ? HEADER.length : 0) + (last ? TRAILER.length : 0);
  for (const r of rows) size += ROW_OVERHEAD + r.data.length;
  const buf = Buffer.allocUnsafe(size);
  let o = first ? HEADER.copy(buf, 0) : 0;
  for (const r of rows) {
    o = buf.writeInt16BE(3, o);
    o = buf.writeInt32BE(4, o);
    o = buf.writeInt32BE(r.meterRef, o);
    o = buf.writeInt32BE(8, o);
    // Epoch milliseconds as two 32-bit halves (exact below 2^53, no BigInt per row).
    o = buf.writeInt32BE(Math.floor(r.ts / TWO_32), o);
    o = buf.writeUInt32BE(r.ts >>> 0, o);
    o = buf.writeInt32BE(r.data.length, o);
    o += r.data.copy(buf, o);
  }
  if (last) TRAILER.copy(buf, o);
  return buf;
}

function* chunks(rows: readonly PackedRow[]): Generator<Buffer> {
  if (rows.length === 0) {
    yield Buffer.concat([HEADER, TRAILER]);
    return;
  }
  for (let i = 0; i < rows.length; i += ROWS_PER_CHUNK) {
    yield encodeRows(rows.slice(i, i + ROWS_PER_CHUNK), i === 0, i + ROWS_PER_CHUNK >= rows.length);
  }
}

/**
 * Appends rows to a readings table with `COPY … FROM STDIN (FORMAT binary)`,
 * on the caller's connection and inside its transaction. A row that already
 * exists fails the whole COPY with a unique violation (23505): the caller
 * handles that (see PgReadingStore.write).
 */
export async function copyRows(client: pg.PoolClient | pg.Client, table: string, rows: readonly PackedRow[]): Promise<void> {
  const sink = client.query(copyFrom(`COPY ${table} (meter_ref, ts, data) FROM STDIN (FORMAT binary)`));
  await pipeline(Readable.from(chunks(rows)), sink);
}
