import { spawn } from 'node:child_process';
import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../src/logging/logger.js';
import { ApiKeyRepository, UserRepository } from '../src/accounts/account-repositories.js';
import { StorageService } from '../src/storage/storage-service.js';
import { tempDataDir } from './helpers/temp-data-dir.js';
import { runCli } from '../../test-support/run-cli.js';

const cli = runCli;
const CLI = fileURLToPath(new URL('../../packages/meterhub/bin/meterhub.js', import.meta.url));

describe('meterhub user and key', function () {
  this.timeout(30000);
  let dir: ReturnType<typeof tempDataDir>;
  before(() => {
    dir = tempDataDir();
    writeFileSync(join(dir.root, 'meterhub.json'), JSON.stringify({ dataDir: './data' }));
  });
  after(() => dir.cleanup());

  it('adds users with a password from stdin, hashed with scrypt; refuses short passwords and duplicates', async () => {
    const added = await cli(['user', 'add', 'ada', '--role', 'admin'], dir.root, 'correct-horse-battery\n');
    expect(added.code, added.stderr).to.equal(0);
    expect(added.stdout).to.include('added admin "ada"');
    expect((await cli(['user', 'add', 'bob'], dir.root, 'short\n')).stderr).to.include('at least 10 characters');
    expect((await cli(['user', 'add', 'ada'], dir.root, 'another-password\n')).code).to.equal(1);
    const list = await cli(['user', 'list'], dir.root);
    expect(list.stdout).to.match(/1\s+ada\s+admin/);
    const s = await StorageService.open({
      target: { engine: 'sqlite', filename: join(dir.dataDir, 'meterhub.db') }, dataDir: dir.dataDir, spoolMaxRows: 1000, rollupIntervalMs: 60000,
      retention: { rawDays: null, minuteDays: null, hourDays: null, dayDays: null }, ingest: { maxBatch: 10, maxDelayMs: 5, maxPending: 100 },
    }, createLogger({ level: 'silent', pretty: false }));
    const row = await s.knex('users').where({ username: 'ada' }).first() as { password_hash: string };
    expect(row.password_hash).to.match(/^scrypt\$32768\$8\$1\$/);
    expect(row.password_hash).to.not.include('correct-horse');
    const users = new UserRepository(s.knex);
    expect(await users.verify('ada', 'correct-horse-battery')).to.include({ username: 'ada', role: 'admin' });
    expect(await users.verify('ada', 'wrong')).to.equal(undefined);
    expect(await users.verify('nobody', 'wrong')).to.equal(undefined);
    await s.close();
  });

  it('changes a password, which signs the user out everywhere; deletes users', async () => {
    const r = await cli(['user', 'passwd', 'ada'], dir.root, 'a-new-long-password\n');
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.include('older tokens no longer work');
    await cli(['user', 'add', 'tmp'], dir.root, 'temporary-password\n');
    expect((await cli(['user', 'delete', 'tmp'], dir.root)).stdout).to.include('deleted "tmp"');
    expect((await cli(['user', 'delete', 'tmp'], dir.root)).code).to.equal(1);
  });

  it('creates a key shown once, lists it without the key, and revokes it', async () => {
    const created = await cli(['key', 'create', 'collector', '--scopes', 'ingest,meters:write'], dir.root);
    expect(created.code, created.stderr).to.equal(0);
    const key = /key \(shown once, store it now\): (mh_\S+)/.exec(created.stdout)![1]!;
    const list = await cli(['key', 'list'], dir.root);
    expect(list.stdout).to.include('collector').and.to.include('ingest,meters:write').and.not.include(key);
    expect((await cli(['key', 'revoke', '1'], dir.root)).stdout).to.include('revoked key 1');
    const s = await StorageService.open({
      target: { engine: 'sqlite', filename: join(dir.dataDir, 'meterhub.db') }, dataDir: dir.dataDir, spoolMaxRows: 1000, rollupIntervalMs: 60000,
      retention: { rawDays: null, minuteDays: null, hourDays: null, dayDays: null }, ingest: { maxBatch: 10, maxDelayMs: 5, maxPending: 100 },
    }, createLogger({ level: 'silent', pretty: false }));
    expect(await new ApiKeyRepository(s.knex).verify(key)).to.equal(undefined);
    await s.close();
    expect((await cli(['key', 'create', 'x', '--scopes', 'root'], dir.root)).code).to.equal(2);
  });

  it('start warns once when there is no user yet, without any default password', async () => {
    const fresh = tempDataDir();
    writeFileSync(join(fresh.root, 'meterhub.json'), JSON.stringify({ dataDir: './data', http: { port: 0 } }));
    const child = spawn(process.execPath, [CLI, 'start'], { cwd: fresh.root, env: { PATH: process.env['PATH'] } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const deadline = Date.now() + 15000;
    while (!out.includes('HTTP server listening') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
    expect(out).to.include('no users yet: create the first admin with `meterhub user add <name> --role admin`');
    fresh.cleanup();
  });
});
