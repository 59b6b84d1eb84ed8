/**
 * Ways to put packed reading rows into PostgreSQL, measured beside each other
 * on the same database in the same run: batches of one transaction each, the
 * per-batch commit latency and the values per second. The product's path
 * (PgReadingStore) uses the fastest; this is where that choice is checked.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { copyRows } from '../core/src/storage/pg-copy.js';
import { packValues } from '../core/src/storage/packed-values.js';
import type { PackedRow } from '../core/src/storage/reading-store.js';

export interface MethodResult {
  name: string;
  valuesPerSecond: number;
  p99CommitMs: number;
}

type Write = (client: pg.Client, table: string, rows: readonly PackedRow[]) => Promise<void>;

const params = (rows: readonly PackedRow[]) => rows.flatMap((r) => [r.meterRef, r.ts, r.data]);
const placeholders = (n: number) => Array.from({ length: n }, (_, k) => `($${3 * k + 1}, $${3 * k + 2}, $${3 * k + 3})`).join(',');

/** Text COPY: bytea hex-escaped, one tab-separated line per row. */
async function copyText(client: pg.Client, table: string, rows: readonly PackedRow[]): Promise<void> {
  const text = rows.map((r) => `${r.meterRef}\t${r.ts}\t\\\\x${r.data.toString('hex')}\n`).join('');
  await pipeline(Readable.from([text]), client.query(copyFrom(`COPY ${table} (meter_ref, ts, data) FROM STDIN`)));
}

/** A savepoint around a COPY, as the product takes one to fall back to a merging insert on a conflict. */
const withSavepoint = (write: Write): Write => async (client, table, rows) => {
  await client.query('SAVEPOINT copy');
  await write(client, table, rows);
  await client.query('RELEASE SAVEPOINT copy');
};

export const METHODS: ReadonlyArray<{ name: string; write: Write }> = [
  { name: 'multi-row INSERT … ON CONFLICT DO NOTHING, 4000 rows a statement (the previous path)', write: async (client, table, rows) => {
    for (let i = 0; i < rows.length; i += 4000) {
      const chunk = rows.slice(i, i + 4000);
      await client.query(`INSERT INTO ${table} (meter_ref, ts, data) VALUES ${placeholders(chunk.length)} ON CONFLICT DO NOTHING`, params(chunk));
    }
  } },
  { name: 'INSERT … SELECT FROM unnest(arrays) ON CONFLICT DO NOTHING, one statement a batch', write: async (client, table, rows) => {
    await client.query(`INSERT INTO ${table} (meter_ref, ts, data) SELECT * FROM unnest($1::int[], $2::bigint[], $3::bytea[]) ON CONFLICT DO NOTHING`,
      [rows.map((r) => r.meterRef), rows.map((r) => r.ts), rows.map((r) => r.data)]);
  } },
  { name: 'COPY FROM STDIN, text format, in a savepoint', write: withSavepoint(copyText) },
  { name: 'COPY FROM STDIN, binary format, in a savepoint (the product path)', write: withSavepoint(copyRows) },
];

/** `readings` rows of `meters` meters, one reading a second each, with `valuesPerReading` float32 values. */
export function sampleRows(readings: number, meters: number, valuesPerReading: number, t0: number): PackedRow[] {
  return Array.from({ length: readings }, (_, i) => ({
    meterRef: 1 + (i % meters), ts: t0 + Math.floor(i / meters) * 1000,
    data: packValues(Array.from({ length: valuesPerReading }, (_, k) => [k + 1, 230 + ((i + k) % 50) / 4] as [number, number])),
  }));
}

/**
 * Each method writes the same rows into a fresh copy of the readings table,
 * `batch` rows a transaction, after a warm-up; best of `rounds`.
 */
export async function compareMethods(connection: pg.ClientConfig, rows: readonly PackedRow[], valuesPerReading: number, batch: number, rounds: number): Promise<MethodResult[]> {
  const client = new pg.Client(connection);
  await client.connect();
  const out: MethodResult[] = [];
  try {
    for (const [m, method] of METHODS.entries()) {
      let best: MethodResult = { name: method.name, valuesPerSecond: 0, p99CommitMs: 0 };
      for (let round = 0; round < rounds + 1; round++) {
        const table = `ingest_method_${m}`;
        await client.query(`DROP TABLE IF EXISTS ${table}`);
        await client.query(`CREATE TABLE ${table} (meter_ref INTEGER NOT NULL, ts BIGINT NOT NULL, data BYTEA NOT NULL, PRIMARY KEY (meter_ref, ts))`);
        const commits: number[] = [];
        const t0 = performance.now();
        for (let i = 0; i < rows.length; i += batch) {
          const b0 = performance.now();
          await client.query('BEGIN');
          await method.write(client, table, rows.slice(i, i + batch));
          await client.query('COMMIT');
          commits.push(performance.now() - b0);
        }
        const seconds = (performance.now() - t0) / 1000;
        // Round 0 warms code and the server's caches.
        if (round === 0) continue;
        const rate = (rows.length * valuesPerReading) / seconds;
        if (rate > best.valuesPerSecond) best = { name: method.name, valuesPerSecond: rate, p99CommitMs: commits.sort((a, b) => a - b)[Math.floor(0.99 * (commits.length - 1))]! };
      }
      await client.query(`DROP TABLE IF EXISTS ingest_method_${m}`);
      out.push(best);
    }
  } finally {
    await client.end();
  }
  return out;
}

