import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Host } from '../src/host.js';
import { createLogger } from '../src/logging/logger.js';
import { tempDataDir } from './helpers/temp-data-dir.js';

const CLI = fileURLToPath(new URL('../../packages/meterhub/bin/meterhub.js', import.meta.url));
const FIXTURE = fileURLToPath(new URL('./fixtures/packages/meterhub-plugin-fixture-transport', import.meta.url));

function validate(config: Record<string, unknown>, cwd: string) {
  const file = join(cwd, 'meterhub.json');
  writeFileSync(file, JSON.stringify({ pluginPackages: [FIXTURE], ...config }));
  return spawnSync(process.execPath, [CLI, 'validate', '--config', file], { cwd, encoding: 'utf8', env: { PATH: process.env['PATH'] }, timeout: 20000 });
}

const meter = { id: 'm1', driver: 'sdm230', bus: 'gw', unitId: 1 };

describe('transport kinds come from transport plugins', function () {
  this.timeout(30000);
  let dir: ReturnType<typeof tempDataDir>;
  beforeEach(() => {
    dir = tempDataDir();
  });
  afterEach(() => dir.cleanup());

  it('meterhub validate accepts a bus of a third-party kind, and rejects its bad property with the JSON path (exit 2)', () => {
    const good = validate({ buses: [{ id: 'gw', transport: 'fixture-gateway', url: 'fixture://hall' }], meters: [meter] }, dir.root);
    expect(good.stderr).to.equal('');
    expect(good.status).to.equal(0);

    const bad = validate({ buses: [{ id: 'gw', transport: 'fixture-gateway', url: 'http://hall', channel: 9 }], meters: [meter] }, dir.root);
    expect(bad.status).to.equal(2);
    expect(bad.stderr).to.match(/\/buses\/0\/url\s+must match pattern "\^fixture:\/\/"/);
    expect(bad.stderr).to.match(/\/buses\/0\/channel\s+must be <= 8/);

    const missing = validate({ buses: [{ id: 'gw', transport: 'fixture-gateway' }] }, dir.root);
    expect(missing.status).to.equal(2);
    expect(missing.stderr).to.match(/\/buses\/0\/url\s+is required/);
  });

  it('the allowed kinds are those of the loaded plugins; a built-in kind keeps its own required properties', () => {
    const unknown = validate({ buses: [{ id: 'gw', transport: 'fixture-gatway', url: 'fixture://hall' }] }, dir.root);
    expect(unknown.status).to.equal(2);
    expect(unknown.stderr).to.match(/\/buses\/0\/transport/);
    expect(unknown.stderr).to.include('fixture-gateway');
    expect(unknown.stderr).to.include('modbus-tcp');

    const tcp = validate({ buses: [{ id: 'gw', transport: 'modbus-tcp', host: '127.0.0.1' }] }, dir.root);
    expect(tcp.status).to.equal(2);
    expect(tcp.stderr).to.match(/\/buses\/0\/port\s+is required/);
    const rtu = validate({ buses: [{ id: 'gw', transport: 'rtu', path: '/dev/ttyUSB0', baud: 1234 }] }, dir.root);
    expect(rtu.status).to.equal(2);
    expect(rtu.stderr).to.match(/\/buses\/0\/baud/);
  });

  it('a host polls a meter over the third-party kind, with the kind\'s defaults filled in', async () => {
    const host = new Host({
      config: { dataDir: dir.dataDir, http: { port: 0 }, pluginPackages: [FIXTURE], buses: [{ id: 'gw', transport: 'fixture-gateway', url: 'fixture://hall' }], meters: [meter] },
      cwd: dir.root, logger: createLogger({ level: 'silent', pretty: false }),
    });
    await host.prepare();
    expect(host.config.buses[0]).to.include({ transport: 'fixture-gateway', url: 'fixture://hall', channel: 1 });
    await host.start();
    try {
      const online = new Promise<void>((resolve) => {
        const check = (): void => {
          if (host.meterStates.current().some((e) => e.meterId === 'm1' && e.state === 'online')) resolve();
        };
        host.meterStates.subscribe(check);
        check();
      });
      await online;
    } finally {
      await host.stop();
    }
  });
});
