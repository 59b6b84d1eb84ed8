import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileDriver, isMeterhubError, type DriverDefinition } from '@meterhub/sdk';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { applyEnvOverrides } from '../src/config/env-overrides.js';
import { convertLegacySetting, isLegacySetting } from '../src/config/legacy-setting.js';
import { Host } from '../src/host.js';
import { createLogger } from '../src/logging/logger.js';
import { tempDataDir } from './helpers/temp-data-dir.js';

const require = createRequire(import.meta.url);
const loadDriver = (spec: string) => compileDriver(JSON.parse(readFileSync(require.resolve(spec), 'utf8')) as DriverDefinition);
const drivers = [loadDriver('@meterhub/driver-sdm230/sdm230.json'), loadDriver('@meterhub/driver-sdm630/sdm630.json')];
const silent = createLogger({ level: 'silent', pretty: false });

async function prepare(config: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): Promise<Host> {
  const dir = tempDataDir();
  const host = new Host({ config: { dataDir: dir.dataDir, ...config }, cwd: dir.root, env, logger: silent });
  try {
    await host.prepare();
  } finally {
    dir.cleanup();
  }
  return host;
}

async function problems(config: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): Promise<string[]> {
  try {
    await prepare(config, env);
  } catch (err) {
    if (!isMeterhubError(err, 'METERHUB_ERR_CONFIG_INVALID')) throw err;
    return err.details.map((d) => `${d.path} ${d.message}${d.hint ? ` (${d.hint})` : ''}`);
  }
  return [];
}

const bus = { id: 'rs485', transport: 'modbus-tcp', host: '127.0.0.1', port: 502 };

describe('configuration', () => {
  it('fills defaults and freezes the result', async () => {
    const host = await prepare({});
    expect(host.config.http).to.deep.equal({ port: 8000, host: '127.0.0.1', allowedHosts: [], corsAllowedOrigins: [], trustProxy: false, basePath: '/' });
    expect(host.config.storage.client).to.equal('sqlite');
    expect(host.config.auth.accessTokenLifetimeMinutes).to.equal(60);
    expect(Object.isFrozen(host.config.http)).to.equal(true);
  });

  it('reports every problem with its JSON path', async () => {
    const p = await problems({
      http: { port: 'eighty' },
      plugins: { nosuch: {} },
      buses: [bus],
      meters: [{ id: 'house', driver: 'sdm999', bus: 'rs485', unitId: 300 }, { id: 'garage', bus: 'rs485', unitId: 2 }],
    });
    expect(p).to.include('/http/port must be integer');
    expect(p.some((x) => x.startsWith('/plugins/nosuch is not a loaded plugin'))).to.equal(true);
    expect(p.some((x) => x.startsWith('/meters/0/driver must be equal to one of the allowed values') && x.includes('sdm630'))).to.equal(true);
    expect(p).to.include('/meters/0/unitId must be <= 247');
    expect(p).to.include('/meters/1/driver is required');
  });

  it('checks references: unknown bus, duplicate ids and unit ids, unknown measurement', async () => {
    const p = await problems({
      buses: [bus],
      meters: [
        { id: 'a', driver: 'sdm630', bus: 'rs485', unitId: 1, measurements: ['voltageL1', 'Warp factor'] },
        { id: 'a', driver: 'sdm630', bus: 'rs485', unitId: 1 },
        { id: 'b', driver: 'sdm230', bus: 'nowhere', unitId: 3 },
      ],
    });
    expect(p.some((x) => x.startsWith('/meters/0/measurements/1 "Warp factor" is not a measurement of driver sdm630'))).to.equal(true);
    expect(p.some((x) => x.startsWith('/meters/1/id meter id "a" is used twice'))).to.equal(true);
    expect(p.some((x) => x.startsWith('/meters/1/unitId unit id 1 on bus "rs485" is already used'))).to.equal(true);
    expect(p.some((x) => x.startsWith('/meters/2/bus no bus "nowhere"'))).to.equal(true);
  });

  it('canonicalises legacy parameter names to vocabulary ids', async () => {
    const host = await prepare({ buses: [bus], meters: [{ id: 'a', driver: 'sdm230', bus: 'rs485', unitId: 1, measurements: ['Voltage', 'Active Power', 'power'] }] });
    expect(host.config.meters[0]!.measurements).to.deep.equal(['voltageL1', 'power']);
  });

  it('applies the old deployment environment variables, and names them in errors', async () => {
    const env = {
      PORT: '9001', SECRET_KEY: 'x'.repeat(32), ALLOWED_HOSTS: 'meters.local, 127.0.0.1', DEBUG: 'True',
      JWT_ACCESS_TOKEN_LIFETIME: '15', DB_HOST: 'db', DB_NAME: 'energy', DB_USER: 'mh', DB_PASSWORD: 'pw',
      CORS_ALLOWED_ORIGINS: 'http://a.example',
    };
    const host = await prepare({}, env);
    expect(host.config.http.port).to.equal(9001);
    expect(host.config.http.allowedHosts).to.deep.equal(['meters.local', '127.0.0.1']);
    expect(host.config.debug).to.equal(true);
    expect(host.config.auth.accessTokenLifetimeMinutes).to.equal(15);
    expect(host.config.storage).to.deep.include({ client: 'postgres', connection: { host: 'db', database: 'energy', user: 'mh', password: 'pw' } });
    expect(await problems({}, { PORT: 'abc' })).to.deep.equal(['/http/port must be integer (set by environment variable PORT)']);
  });

  it('http.trustProxy takes proxy addresses, subnets or a hop count; true and unreadable addresses are refused with their path', async () => {
    expect((await prepare({ http: { trustProxy: ['127.0.0.1', '10.0.0.0/8', 'loopback', '::1'] } })).config.http.trustProxy).to.deep.equal(['127.0.0.1', '10.0.0.0/8', 'loopback', '::1']);
    expect((await prepare({ http: { trustProxy: 2 } })).config.http.trustProxy).to.equal(2);
    const refused = await problems({ http: { trustProxy: ['127.0.0.1', 'proxy.lan', '10.0.0.0/99'] } });
    expect(refused.map((p) => p.split(' ')[0])).to.deep.equal(['/http/trustProxy/1', '/http/trustProxy/2']);
    expect(refused[0]).to.include('"proxy.lan" is not an IP address');
    expect((await problems({ http: { trustProxy: true } }))[0]).to.match(/^\/http\/trustProxy true would believe X-Forwarded-For from any client/);
    expect(await problems({ http: { trustProxy: 0 } })).to.deep.equal(['/http/trustProxy must be >= 1']);
    expect(await problems({ http: { trustProxy: 'yes' } })).to.deep.equal(['/http/trustProxy must be boolean,integer,array']);
  });

  it('http.basePath: a path prefix; relative or dot segments are refused', async () => {
    expect((await prepare({ http: { basePath: '/meterhub/' } })).config.http.basePath).to.equal('/meterhub/');
    expect(await problems({ http: { basePath: 'meterhub' } })).to.have.length(1);
    expect((await problems({ http: { basePath: 'meterhub' } }))[0]).to.match(/^\/http\/basePath must match pattern/);
    expect(await problems({ http: { basePath: '/a/../b' } })).to.deep.equal(['/http/basePath must not contain . or .. segments']);
  });

  it('METERHUB_TRUST_PROXY and METERHUB_BASE_PATH set them from the environment', async () => {
    const listed = await prepare({}, { METERHUB_TRUST_PROXY: '172.16.0.0/12, 127.0.0.1', METERHUB_BASE_PATH: '/energy' });
    expect(listed.config.http).to.deep.include({ trustProxy: ['172.16.0.0/12', '127.0.0.1'], basePath: '/energy' });
    expect((await prepare({}, { METERHUB_TRUST_PROXY: '1' })).config.http.trustProxy).to.equal(1);
    expect((await prepare({}, { METERHUB_TRUST_PROXY: 'false' })).config.http.trustProxy).to.equal(false);
    expect(await problems({}, { METERHUB_TRUST_PROXY: 'traefik' })).to.deep.equal([
      '/http/trustProxy/0 "traefik" is not an IP address, a subnet (addr/bits) or loopback, linklocal, uniquelocal (set by environment variable METERHUB_TRUST_PROXY)',
    ]);
  });

  it('does not let env parsing touch the input object', () => {
    const raw = { http: { port: 1 } };
    applyEnvOverrides(raw, { PORT: '2' });
    expect(raw.http.port).to.equal(1);
  });
});

describe('legacy setting.json', () => {
  const setting = {
    Logger_ID: 'LOGGER-7',
    Device_IP: '127.0.0.1',
    Device_Port: 8899,
    Troubleshoot: true,
    meterlist: [
      { name: 'Main Panel', id: 1, model: 'SDM630', paramlist: ['Phase 1 line to neutral volts', 'Total Active Power', 'Import Active Energy'] },
      { name: 'Heat pump', id: 2, model: 'sdm230', paramlist: ['Voltage', 'Active Power'] },
    ],
  };

  it('is recognised and converted with canonical measurement ids', () => {
    expect(isLegacySetting(setting)).to.equal(true);
    expect(isLegacySetting({ meters: [] })).to.equal(false);
    const { config: out, skipped } = convertLegacySetting(setting, drivers);
    expect(skipped).to.deep.equal([]);
    expect(out).to.deep.equal({
      name: 'LOGGER-7',
      log: { level: 'debug' },
      buses: [{ id: 'gateway', transport: 'modbus-tcp', host: '127.0.0.1', port: 8899 }],
      meters: [
        { id: 'main-panel', name: 'Main Panel', driver: 'sdm630', bus: 'gateway', unitId: 1, measurements: ['voltageL1', 'power', 'importEnergy'] },
        { id: 'heat-pump', name: 'Heat pump', driver: 'sdm230', bus: 'gateway', unitId: 2, measurements: ['voltageL1', 'power'] },
      ],
    });
  });

  it('names every meter it cannot import, with the file and the closest model', () => {
    try {
      convertLegacySetting({ Device_IP: '127.0.0.1', meterlist: [{ name: 'x', id: 999, model: 'SDM360', paramlist: [] }, { id: 2, model: 'SDM230', paramlist: ['Warp'] }] }, drivers, { file: 'old-logger.json' });
      expect.fail('should throw');
    } catch (err) {
      expect(isMeterhubError(err, 'METERHUB_ERR_LEGACY_SETTING')).to.equal(true);
      expect((err as Error).message).to.match(/^old-logger\.json: 2 problem/);
      const details = (err as { details: Array<{ path: string; hint?: string }> }).details;
      expect(details.map((d) => d.path)).to.deep.equal(['/meterlist/0/id', '/meterlist/0/model']);
      expect(details[1]!.hint).to.match(/^did you mean .*"sdm630"/);
    }
  });

  it('imports what maps: a per-phase name takes every phase of a three-phase meter, unknown names are left out with suggestions', () => {
    const { config, skipped } = convertLegacySetting({
      Device_IP: '127.0.0.1',
      meterlist: [
        { name: 'House', id: 1, model: 'SDM630', paramlist: ['Voltage', 'Current', 'Total Active Power', 'Import Activ Energy', 'Warp'] },
        { name: 'Garage', id: 2, model: 'SDM230', paramlist: ['Voltage', 'Current'] },
      ],
    }, drivers);
    const meters = config['meters'] as Array<{ measurements?: string[] }>;
    expect(meters[0]!.measurements).to.deep.equal(['voltageL1', 'voltageL2', 'voltageL3', 'currentL1', 'currentL2', 'currentL3', 'power']);
    expect(meters[1]!.measurements).to.deep.equal(['voltageL1', 'currentL1']);
    expect(skipped.map((s) => s.path)).to.deep.equal(['/meterlist/0/paramlist/3', '/meterlist/0/paramlist/4']);
    expect(skipped[0]!.hint).to.match(/^did you mean "import_active_energy"/i);
    expect(skipped[1]!.hint).to.not.match(/did you mean/);
  });

  it('config errors suggest the closest allowed value', async () => {
    const host = new Host({ config: { meters: [{ id: 'a', driver: 'sdm360', bus: 'b', unitId: 1 }], buses: [{ id: 'b', transport: 'modbus-tpc', host: '127.0.0.1' }], plugins: { rset: {} } }, env: {}, logger: silent });
    try {
      await host.prepare();
      expect.fail('should throw');
    } catch (err) {
      const details = (err as { details: Array<{ path: string; hint?: string }> }).details;
      const hint = (path: string) => details.find((d) => d.path === path)?.hint ?? '';
      expect(hint('/meters/0/driver')).to.match(/did you mean .*"sdm630"/);
      expect(hint('/buses/0/transport')).to.match(/did you mean "modbus-tcp"/);
      expect(hint('/plugins/rset')).to.match(/did you mean "rest"/);
    }
  });

  it('is accepted by the host as a config file', async () => {
    const dir = tempDataDir();
    const file = join(dir.root, 'setting.json');
    writeFileSync(file, JSON.stringify(setting));
    const host = new Host({ configPath: file, cwd: dir.root, env: {}, logger: silent });
    await host.prepare();
    expect(host.config.meters.map((m) => m.id)).to.deep.equal(['main-panel', 'heat-pump']);
    expect(host.config.name).to.equal('LOGGER-7');
    dir.cleanup();
  });
});
