import { expect } from 'chai';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { StorageTarget } from '../../src/storage/knex-factory.js';
import { createTestDatabase, type TestDatabase } from '../../../test-support/postgres.js';
import { RestRig } from '../../../plugins/rest/test/rest-rig.js';
import { tempDataDir } from '../helpers/temp-data-dir.js';

export const pgUrl = (db: TestDatabase) => `postgres://${db.connection.user}@${db.connection.host}:${db.connection.port}/${db.connection.database}`;

/**
 * A working folder whose meterhub.json stores into a fresh PostgreSQL
 * database, or (`sqlite`) the default SQLite file of its data dir: where the
 * CLI imports to.
 */
export class ImportTarget {
  readonly dir = tempDataDir();
  private constructor(readonly db: TestDatabase | undefined) {
    mkdirSync(this.dir.root, { recursive: true });
    writeFileSync(join(this.dir.root, 'meterhub.json'), JSON.stringify({ dataDir: './data', ...(db ? { storage: { client: 'postgres', url: pgUrl(db) } } : {}) }));
  }

  static async create(label: string, engine: 'postgres' | 'sqlite' = 'postgres'): Promise<ImportTarget> {
    return new ImportTarget(engine === 'postgres' ? await createTestDatabase(label) : undefined);
  }

  /** The storage target, for opening the database in the test process. */
  get storageTarget(): StorageTarget {
    return this.db ? { engine: 'postgres', connection: this.db.connection } as StorageTarget : { engine: 'sqlite', filename: join(this.dir.dataDir, 'meterhub.db') };
  }

  async query<T extends pg.QueryResultRow>(sql: string): Promise<T[]> {
    if (!this.db) {
      const sqlite = new Database(join(this.dir.dataDir, 'meterhub.db'));
      try {
        return sqlite.prepare(sql).all() as T[];
      } finally {
        sqlite.close();
      }
    }
    const c = new pg.Client(this.db.connection);
    await c.connect();
    try {
      return (await c.query<T>(sql)).rows;
    } finally {
      await c.end();
    }
  }

  /**
   * A host with the REST API on the imported database. An import rolls its
   * minutes up before it ends, but an interrupted one leaves them marked;
   * the marks are cleared first so the host does not roll them up at stop.
   */
  async restHost(): Promise<RestRig> {
    if (!this.db) throw new Error('restHost: a PostgreSQL target only');
    await this.query('DELETE FROM rollup_dirty');
    return RestRig.start('sqlite', { storage: { client: 'postgres', connection: this.db.connection } });
  }

  async drop(): Promise<void> {
    await this.db?.drop();
    this.dir.cleanup();
  }
}

/** Every raw point of a meter's family through `GET /api/meters/{id}/{family}/history/?resolution=raw`, following `next`. */
export async function restHistory(rig: RestRig, token: string, meter: string, family: 'power' | 'energy', from: number, to: number): Promise<Map<number, Record<string, number>>> {
  const out = new Map<number, Record<string, number>>();
  let path: string | null = `/api/meters/${encodeURIComponent(meter)}/${family}/history/?${new URLSearchParams({ resolution: 'raw', from: new Date(from).toISOString(), to: new Date(to).toISOString(), limit: '10000' })}`;
  while (path) {
    const r = await rig.request('GET', path, { token });
    if (r.status !== 200) throw new Error(`history ${path}: ${r.status} ${JSON.stringify(r.body)}`);
    for (const p of r.body.results as Array<{ timestamp: string; values: Record<string, number> }>) out.set(Date.parse(p.timestamp), p.values);
    path = r.body.next ? (r.body.next as string).replace(/^https?:\/\/[^/]+/, '') : null;
  }
  return out;
}

/** The old tables' columns and what they must become (docs/import.md's table). */
const POWER = { voltage: 'voltageL1', current: 'currentL1', power: 'power', frequency: 'frequency', power_factor: 'powerFactor' };
/** Meter 2 is an SDM630 in the meters table: the old fields mean the three-phase quantities. */
const POWER_3P = { ...POWER, voltage: 'voltageLnAvg', current: 'currentSum' };
const ENERGY = { energy: 'totalEnergy', import_energy: 'importEnergy' };

export interface Expected {
  /** meter → family → ts → values */
  history: Map<string, { power: Map<number, Record<string, number>>; energy: Map<number, Record<string, number>> }>;
  counts: Record<string, { read: number; stored: number; duplicates: number; empty: number }>;
}

/**
 * What an import must store, worked out from the source rows independently of
 * the importer: per (meter, time) the row with the lowest id, its non-NULL
 * mapped columns; rows with none of them are skipped. `where` limits it to
 * some rows (samples of a long history; keep all rows of a time together).
 */
export async function expectedFrom(connection: pg.ClientConfig, where = 'true'): Promise<Expected> {
  const c = new pg.Client(connection);
  await c.connect();
  const history: Expected['history'] = new Map();
  const counts: Expected['counts'] = {};
  try {
    for (const [table, family, columns] of [['meters_powerreading', 'power', POWER], ['meters_energyreading', 'energy', ENERGY]] as const) {
      const rows = (await c.query(`SELECT meter_id::text AS m, "timestamp" AS t, ${Object.keys(columns).map((k) => `${k}::float8 AS ${k}`).join(', ')} FROM ${table} WHERE ${where} ORDER BY id`)).rows;
      for (const r of rows) {
        const meter = r.m as string;
        const cnt = (counts[meter] ??= { read: 0, stored: 0, duplicates: 0, empty: 0 });
        cnt.read++;
        const ts = (r.t as Date).getTime();
        const values: Record<string, number> = {};
        const mapping: Record<string, string> = family === 'power' && meter === '2' ? POWER_3P : columns;
        for (const [col, id] of Object.entries(mapping)) if (r[col] !== null) values[id] = r[col] as number;
        if (Object.keys(values).length === 0) {
          cnt.empty++;
          continue;
        }
        if (!history.has(meter)) history.set(meter, { power: new Map(), energy: new Map() });
        const fam = history.get(meter)![family];
        if (fam.has(ts)) {
          cnt.duplicates++;
          continue;
        }
        fam.set(ts, values);
        cnt.stored++;
      }
    }
  } finally {
    await c.end();
  }
  return { history, counts };
}

/** The closing table's line of a meter: read, stored, values, skipped. */
function countsLine(stdout: string, meter: string): number[] {
  const line = stdout.split('\n').find((l) => l.startsWith(`${meter} `));
  if (!line) throw new Error(`no counts for meter ${meter} in:\n${stdout}`);
  return line.trim().split(/\s+/).slice(1).map((n) => Number(n.replace(/,/g, '')));
}

export function expectCounts(stdout: string, expected: Expected, map: Record<string, string> = {}): void {
  for (const [meter, c] of Object.entries(expected.counts)) {
    const [read, stored, , skipped] = countsLine(stdout, map[meter] ?? meter);
    expect({ read, stored, skipped }, `meter ${meter}`).to.deep.equal({ read: c.read, stored: c.stored, skipped: c.duplicates + c.empty });
  }
}
