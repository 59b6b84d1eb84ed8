import pg from 'pg';

/** The local PostgreSQL the tests use; CI starts it when it is not running. */
export const PG_ADMIN = { host: '127.0.0.1', port: 5432, user: process.env['PGUSER'] ?? 'postgres', database: 'postgres' };

export interface TestDatabase {
  name: string;
  connection: { host: string; port: number; user: string; database: string };
  drop(): Promise<void>;
}

/**
 * Creates a database of its own for one test run, so runs never see each
 * other's rows. Fails loudly when PostgreSQL is unreachable: those tests must
 * not pass silently.
 */
export async function createTestDatabase(label: string): Promise<TestDatabase> {
  const name = `meterhub_test_${label}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client(PG_ADMIN);
  try {
    await admin.connect();
  } catch (err) {
    throw new Error(`PostgreSQL is required on 127.0.0.1:5432 for these tests (bash .ci/run starts it): ${(err as Error).message}`);
  }
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  return {
    name,
    connection: { ...PG_ADMIN, database: name },
    async drop() {
      const c = new pg.Client(PG_ADMIN);
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
