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
   * A host with the REST API on the imported database. The import leaves its
   * minutes marked for the rollup job; these tests read raw history, so the
   * marks are cleared first rather than rolled up at every stop.
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
