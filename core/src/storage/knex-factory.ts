import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import knexModule, { type Knex } from 'knex';
import type pg from 'pg';
import type { HostConfig } from '../config/host-config.js';

// knex is CommonJS; under nodenext its callable sits on the default import.
const knex = knexModule as unknown as (config: Knex.Config) => Knex;

export type Engine = 'sqlite' | 'postgres';

export interface StorageTarget {
  engine: Engine;
  /** SQLite file (absolute), for engine sqlite. */
  filename?: string;
  /** PostgreSQL connection string or parameters, for engine postgres. */
  connection?: string | Knex.PgConnectionConfig;
}

/** Where the configuration says readings live. */
export function storageTarget(config: Pick<HostConfig, 'storage' | 'dataDir'>): StorageTarget {
  const s = config.storage;
  if (s.client === 'postgres') {
    const c = s.connection ?? {};
    return {
      engine: 'postgres',
      connection: s.url ?? { host: c.host ?? '127.0.0.1', port: c.port ?? 5432, database: c.database ?? 'meterhub', user: c.user ?? 'postgres', ...(c.password ? { password: c.password } : {}) },
    };
  }
  return { engine: 'sqlite', filename: resolve(config.dataDir, s.filename ?? join('.', 'meterhub.db')) };
}

/**
 * SQLite settings that make it safe and fast for a logger: WAL (readers never
 * block the writer, and a killed process loses nothing committed),
 * synchronous=NORMAL (durable against process crashes; only a power cut can
 * lose the last transactions), and a busy timeout instead of immediate errors.
 */
export const SQLITE_PRAGMAS = ['journal_mode = WAL', 'synchronous = NORMAL', 'busy_timeout = 5000', 'foreign_keys = ON'];

let bigintsAsNumbers = false;
/**
 * BIGINT columns hold epoch milliseconds, well inside Number's exact range:
 * pg returns them as numbers. Set before the first PostgreSQL connection, so a
 * SQLite host never loads pg.
 */
function parseBigintsAsNumbers(): void {
  if (bigintsAsNumbers) return;
  (createRequire(import.meta.url)('pg') as typeof pg).types.setTypeParser(20, (v: string) => Number(v));
  bigintsAsNumbers = true;
}

/** Where knex's own warnings go (connection errors during an outage); the console by default. */
export interface KnexLog {
  warn(message: string): void;
}

/** Opens knex on the target. SQLite gets one connection: it has one writer anyway. */
export function createKnex(target: StorageTarget, log?: KnexLog): Knex {
  const logger = log ? { log: { warn: (m: string) => log.warn(m), error: (m: string) => log.warn(m), deprecate: () => undefined, debug: () => undefined } } : {};
  if (target.engine === 'sqlite') {
    mkdirSync(dirname(target.filename!), { recursive: true });
    return knex({
      ...logger,
      client: 'better-sqlite3',
      connection: { filename: target.filename! },
      useNullAsDefault: true,
      pool: {
        min: 1,
        max: 1,
        afterCreate: (conn: { pragma(s: string): unknown }, done: (err: Error | null, conn: unknown) => void) => {
          for (const p of SQLITE_PRAGMAS) conn.pragma(p);
          done(null, conn);
        },
      },
    });
  }
  parseBigintsAsNumbers();
  return knex({ ...logger, client: 'pg', connection: target.connection!, pool: { min: 0, max: 5 }, acquireConnectionTimeout: 10_000 });
}
