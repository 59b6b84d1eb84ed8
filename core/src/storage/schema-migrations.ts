import type { Knex } from 'knex';
import { ensureReadingViews, SQL_SCHEMA, timestampOf } from './sql-views.js';
import { enableTimescale } from './timescale.js';

interface Migration {
  name: string;
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

const isSqlite = (knex: Knex) => knex.client.config.client === 'better-sqlite3';

/**
 * Readings tables: one row per meter and timestamp, values packed in a blob
 * (see packed-values.ts). SQLite tables are WITHOUT ROWID, so the primary key
 * is the table and no second index is paid for; PostgreSQL gets a BRIN index
 * on time for range scans and retention deletes.
 */
async function readingsTable(knex: Knex, table: string): Promise<void> {
  if (isSqlite(knex)) {
    await knex.raw(`CREATE TABLE ${table} (meter_ref INTEGER NOT NULL, ts INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (meter_ref, ts)) WITHOUT ROWID`);
  } else {
    await knex.raw(`CREATE TABLE ${table} (meter_ref INTEGER NOT NULL, ts BIGINT NOT NULL, data BYTEA NOT NULL, PRIMARY KEY (meter_ref, ts))`);
    await knex.raw(`CREATE INDEX ${table}_ts_brin ON ${table} USING BRIN (ts)`);
  }
}

async function rollupTable(knex: Knex, table: string): Promise<void> {
  const [int, big, blob, tail] = isSqlite(knex) ? ['INTEGER', 'INTEGER', 'BLOB', ' WITHOUT ROWID'] : ['INTEGER', 'BIGINT', 'BYTEA', ''];
  await knex.raw(`CREATE TABLE ${table} (meter_ref ${int} NOT NULL, resolution SMALLINT NOT NULL, bucket ${big} NOT NULL, data ${blob} NOT NULL, PRIMARY KEY (meter_ref, resolution, bucket))${tail}`);
}

const MIGRATIONS: Migration[] = [
  {
    name: '001_initial',
    async up(knex) {
      await knex.schema.createTable('measurement_codes', (t) => {
        t.integer('code').primary();
        t.string('measurement', 64).notNullable().unique();
      });
      await knex.schema.createTable('meters', (t) => {
        t.increments('ref').primary();
        t.string('key', 64).notNullable().unique();
        t.string('name', 200);
        t.string('driver', 64).notNullable();
        t.string('bus', 64).notNullable();
        t.integer('unit_id').notNullable();
        t.boolean('enabled').notNullable().defaultTo(true);
        t.text('settings').notNullable().defaultTo('{}');
        t.string('source', 16).notNullable().defaultTo('api');
        t.bigInteger('created_at').notNullable();
        t.bigInteger('updated_at').notNullable();
      });
      await knex.schema.createTable('users', (t) => {
        t.increments('id').primary();
        t.string('username', 150).notNullable().unique();
        t.string('password_hash', 255).notNullable();
        t.string('role', 16).notNullable();
        t.integer('token_version').notNullable().defaultTo(0);
        t.bigInteger('created_at').notNullable();
        t.bigInteger('updated_at').notNullable();
      });
      await knex.schema.createTable('api_keys', (t) => {
        t.increments('id').primary();
        t.string('name', 200).notNullable();
        t.string('prefix', 16).notNullable();
        t.string('digest', 64).notNullable().unique();
        t.text('scopes').notNullable();
        t.integer('created_by').references('id').inTable('users').onDelete('SET NULL');
        t.bigInteger('created_at').notNullable();
        t.bigInteger('last_used_at');
        t.bigInteger('revoked_at');
      });
      await readingsTable(knex, 'readings_power');
      await readingsTable(knex, 'readings_energy');
      await rollupTable(knex, 'rollups_power');
      await rollupTable(knex, 'rollups_energy');
      // Minutes whose rollups must be recomputed from raw readings.
      if (isSqlite(knex)) await knex.raw('CREATE TABLE rollup_dirty (meter_ref INTEGER NOT NULL, minute INTEGER NOT NULL, PRIMARY KEY (meter_ref, minute)) WITHOUT ROWID');
      else await knex.raw('CREATE TABLE rollup_dirty (meter_ref INTEGER NOT NULL, minute BIGINT NOT NULL, PRIMARY KEY (meter_ref, minute))');
    },
    async down(knex) {
      for (const t of ['rollup_dirty', 'rollups_energy', 'rollups_power', 'readings_energy', 'readings_power', 'api_keys', 'users', 'meters', 'measurement_codes']) {
        await knex.schema.dropTableIfExists(t);
      }
    },
  },
  {
    // Readings readable with SQL (sql-views.ts): the decode functions and views, PostgreSQL only.
    name: '002_sql_views',
    async up(knex) {
      if (isSqlite(knex)) return;
      // The views' `ts` is a timestamptz computed from epoch ms; these small BRIN indexes on that
      // expression let `WHERE ts > now() - interval '1 day'` skip old blocks instead of scanning a meter's whole history.
      for (const [table, col] of [['readings_power', 'ts'], ['readings_energy', 'ts'], ['rollups_power', 'bucket'], ['rollups_energy', 'bucket']] as const) {
        await knex.raw(`CREATE INDEX ${table}_tstz_brin ON ${table} USING BRIN (${timestampOf(col)})`);
      }
      await ensureReadingViews(knex);
    },
    async down(knex) {
      if (isSqlite(knex)) return;
      await knex.raw(`DROP SCHEMA IF EXISTS ${SQL_SCHEMA} CASCADE`);
      for (const table of ['readings_power', 'readings_energy', 'rollups_power', 'rollups_energy']) await knex.raw(`DROP INDEX IF EXISTS ${table}_tstz_brin`);
    },
  },
  {
    // Hypertables and compression when the server has TimescaleDB (timescale.ts); skipped without it.
    name: '003_timescale',
    async up(knex) {
      if (!isSqlite(knex)) await enableTimescale(knex);
    },
    async down() {
      // A hypertable cannot be turned back into a plain table in place; dropping the tables (001's down) removes it.
    },
  },
  {
    // Tariffs made over the REST API (those of the config file stay in the file) and which meter pays which.
    name: '004_tariffs',
    async up(knex) {
      await knex.schema.createTable('tariffs', (t) => {
        t.string('id', 64).primary();
        // The tariff as the config schema describes it (JSON): validated as a whole, read as a whole.
        t.text('definition').notNullable();
        t.bigInteger('created_at').notNullable();
        t.bigInteger('updated_at').notNullable();
      });
      await knex.schema.createTable('tariff_assignments', (t) => {
        // A meter id, or '*' for the default (no meter id can start with '*'). No foreign key: an
        // assignment may name a tariff of the config file, which is not in this database.
        t.string('meter_key', 64).primary();
        t.string('tariff_id', 64).notNullable();
      });
    },
    async down(knex) {
      await knex.schema.dropTableIfExists('tariff_assignments');
      await knex.schema.dropTableIfExists('tariffs');
    },
  },
  {
    // PostgreSQL: the rollup job claims dirty marks and runs beside the writers (pg-reading-store.ts claimDirty).
    // SQLite's job takes the writer's turn and needs no claims.
    name: '005_rollup_claims',
    async up(knex) {
      if (!isSqlite(knex)) await knex.raw('ALTER TABLE rollup_dirty ADD COLUMN claimed_at BIGINT');
    },
    async down(knex) {
      if (!isSqlite(knex)) await knex.raw('ALTER TABLE rollup_dirty DROP COLUMN claimed_at');
    },
  },
];

/** Migrations live in code so they run the same from src (tests) and dist (installed). */
export const migrationSource: Knex.MigrationSource<Migration> = {
  getMigrations: async () => MIGRATIONS,
  getMigrationName: (m) => m.name,
  getMigration: async (m) => m,
};

/** Brings the schema up to date; returns the names of the migrations applied now. */
export async function migrateLatest(knex: Knex): Promise<string[]> {
  const [, applied] = (await knex.migrate.latest({ migrationSource, tableName: 'meterhub_migrations' })) as [number, string[]];
  return applied;
}
