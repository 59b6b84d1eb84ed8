import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../../test-support/run-cli.js';
import { tempDataDir } from './helpers/temp-data-dir.js';

// Against the real local PostgreSQL: a role and a database that do not exist.
describe('opening PostgreSQL: errors a person can act on', () => {
  const dir = tempDataDir();
  after(() => dir.cleanup());

  const withStorage = async (storage: Record<string, unknown>): Promise<{ code: number | null; stderr: string }> => {
    writeFileSync(join(dir.root, 'pg.json'), JSON.stringify({ storage: { client: 'postgres', ...storage } }));
    return runCli(['--config', 'pg.json', 'user', 'list'], dir.root);
  };

  it('a refused login says so, names user and server, never the password, and exits 2', async () => {
    const out = await withStorage({ url: 'postgres://meterhub_no_such_role:s3cret-pw@127.0.0.1:5432/postgres' });
    expect(out.code).to.equal(2);
    expect(out.stderr).to.include('METERHUB_ERR_DATABASE_LOGIN');
    expect(out.stderr).to.include('PostgreSQL refused the login as meterhub_no_such_role@127.0.0.1:5432/postgres');
    expect(out.stderr).to.include('DB_PASSWORD');
    expect(out.stderr).to.not.include('s3cret-pw');
  });

  it('a missing database says which one and how to create it', async () => {
    const out = await withStorage({ connection: { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'meterhub_no_such_db' } });
    expect(out.code).to.equal(2);
    expect(out.stderr).to.include('PostgreSQL has no database for postgres@127.0.0.1:5432/meterhub_no_such_db');
    expect(out.stderr).to.include('createdb');
  });

  it('a server that is not listening is an outage (exit 1), not a setting', async () => {
    const out = await withStorage({ url: 'postgres://postgres@127.0.0.1:1/postgres' });
    expect(out.code).to.equal(1);
    expect(out.stderr).to.include('METERHUB_ERR_DATABASE_UNREACHABLE');
    expect(out.stderr).to.include('127.0.0.1:1');
  });
});
