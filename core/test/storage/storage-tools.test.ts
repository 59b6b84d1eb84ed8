import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createTestDatabase } from '../../../test-support/postgres.js';
import { createKnex } from '../../src/storage/knex-factory.js';
import { parseDatabaseUrl } from '../../src/storage/db-copy.js';
import { enableTimescale } from '../../src/storage/timescale.js';
import { meterConfig, StorageHarness } from './storage-harness.js';

const CLI = fileURLToPath(new URL('../../../packages/meterhub/bin/meterhub.js', import.meta.url));
const run = promisify(execFile);

describe('storage tools', function () {
  this.timeout(60000);

  it('parses database URLs', () => {
    expect(parseDatabaseUrl('sqlite:./data/m.db', '/srv')).to.deep.equal({ engine: 'sqlite', filename: '/srv/./data/m.db' });
    expect(parseDatabaseUrl('sqlite:///var/m.db', '/srv')).to.deep.equal({ engine: 'sqlite', filename: '/var/m.db' });
    expect(parseDatabaseUrl('postgres://u:p@127.0.0.1/x', '/srv')).to.deep.equal({ engine: 'postgres', connection: 'postgres://u:p@127.0.0.1/x' });
  });

  it('detects that TimescaleDB is not installed here and leaves plain PostgreSQL tables', async () => {
    const db = await createTestDatabase('tsdb');
    const knex = createKnex({ engine: 'postgres', connection: db.connection });
    try {
      expect(await enableTimescale(knex)).to.equal('unavailable');
    } finally {
      await knex.destroy();
      await db.drop();
    }
  });

  it('meterhub db migrate creates the schema of the configured database', async () => {
    const h = await StorageHarness.create('sqlite', 'migrate');
    const config = join(h.dataDir, '..', 'meterhub.json');
    writeFileSync(config, JSON.stringify({ dataDir: './data' }));
    const { stdout } = await run(process.execPath, [CLI, 'db', 'migrate', '--config', config]);
    expect(stdout).to.include('sqlite database is up to date');
    const s = await h.open();
    expect(await s.knex.schema.hasTable('readings_power')).to.equal(true);
    await s.close();
    await h.dispose();
  });

  it('meterhub db copy moves all history from SQLite to PostgreSQL and verifies row counts', async () => {
    const src = await StorageHarness.create('sqlite', 'copy');
    const s = await src.open();
    await s.syncConfigMeters([meterConfig('house'), meterConfig('garage')]);
    const t0 = Date.UTC(2026, 0, 1);
    for (let i = 0; i < 500; i++) {
      await s.ingest({ meterId: i % 2 ? 'house' : 'garage', ts: t0 + i * 60_000, values: { power: i, voltageL1: 230 + (i % 5), importEnergy: i / 7 } });
    }
    await s.knex('users').insert({ username: 'ada', password_hash: 'scrypt$x', role: 'admin', token_version: 0, created_at: 1, updated_at: 1 });
    const tariff = { id: 'tou', currency: 'EUR', timeZone: 'UTC', versions: [{ validFrom: '2026-01-01', standingChargePerDay: 0.5, feedInPerKWh: 0, windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], from: '00:00', to: '24:00', pricePerKWh: 0.3 }] }] };
    await s.tariffs.insert(tariff as never);
    await s.tariffs.assign('house', 'tou');
    await s.tariffs.assign(undefined, 'tou');
    const expected = await s.history('house', { family: 'energy', from: 0, to: t0 * 2, resolution: 'raw' });
    const expectedHours = await s.history('house', { family: 'power', from: 0, to: t0 * 2, resolution: '1h' });
    await s.close();

    const dst = await createTestDatabase('copy');
    const url = `postgres://${dst.connection.user}@127.0.0.1:5432/${dst.name}`;
    try {
      const { stdout } = await run(process.execPath, [CLI, 'db', 'copy', '--from', `sqlite:${src.target.filename}`, '--to', url], { cwd: src.dataDir });
      expect(stdout).to.include('copied 2 meter(s), 1 user(s), 0 API key(s), 1 tariff(s)');
      expect(stdout).to.match(/readings_power\s+500 -> 500/);
      expect(stdout).to.include('row counts verified');
      const h = await StorageHarness.create('sqlite', 'copy-check');
      const pgStorage = await (await import('../../src/storage/storage-service.js')).StorageService.open(
        { ...h.settings(), target: { engine: 'postgres', connection: dst.connection } },
        (await import('../../src/logging/logger.js')).createLogger({ level: 'silent', pretty: false }),
      );
      expect(await pgStorage.history('house', { family: 'energy', from: 0, to: t0 * 2, resolution: 'raw' })).to.deep.equal(expected);
      expect(await pgStorage.history('house', { family: 'power', from: 0, to: t0 * 2, resolution: '1h' })).to.deep.equal(expectedHours);
      expect(await pgStorage.tariffs.list()).to.deep.equal([tariff]);
      expect(await pgStorage.tariffs.assignments()).to.deep.equal({ default: 'tou', meters: { house: 'tou' } });
      await pgStorage.close();
      await h.dispose();
      // Copying again changes nothing: writes merge by (meter, ts).
      const again = await run(process.execPath, [CLI, 'db', 'copy', '--from', `sqlite:${src.target.filename}`, '--to', url], { cwd: src.dataDir });
      expect(again.stdout).to.match(/readings_power\s+500 -> 500/);
    } finally {
      await dst.drop();
      await src.dispose();
    }
  });
});
