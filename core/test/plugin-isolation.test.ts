import { expect } from 'chai';
import { Host } from '../src/host.js';
import { createLogger } from '../src/logging/logger.js';
import { FIXTURE_PACKAGES, tempDataDir } from './helpers/temp-data-dir.js';

interface FixtureLog { events: string[]; readings: unknown[] }
const fixtureLog = (): FixtureLog => (globalThis as unknown as { __meterhubFixture: FixtureLog }).__meterhubFixture;

const ALL = [
  'meterhub-plugin-good', 'meterhub-plugin-load-crash', 'meterhub-plugin-start-crash', 'meterhub-plugin-callback-crash',
  'meterhub-plugin-async-crash', 'meterhub-plugin-stop-crash', 'meterhub-plugin-bad-config', 'meterhub-plugin-old-api',
  'meterhub-plugin-hang', 'meterhub-driver-broken', 'unrelated-package',
];

const reading = (n: number) => ({ meterId: 'm1', ts: 1_700_000_000_000 + n, values: { power: n } });
const tick = () => new Promise((r) => setTimeout(r, 20));

describe('plugin host: discovery and isolation', function () {
  this.timeout(15000);
  let dir: ReturnType<typeof tempDataDir>;
  let host: Host;

  before(async () => {
    (globalThis as Record<string, unknown>)['__meterhubFixture'] = { events: [], readings: [] };
    dir = tempDataDir(ALL);
    host = new Host({
      config: {
        dataDir: dir.dataDir,
        http: { port: 0 },
        lifecycle: { startTimeoutMs: 300, stopTimeoutMs: 300 },
        plugins: { good: { config: { greeting: 'hi' } }, 'bad-config': { config: { threshold: 'high' } } },
        // A meter the readings below belong to; nothing listens on its bus.
        buses: [{ id: 'nowhere', transport: 'modbus-tcp', host: '127.0.0.1', port: 1 }],
        meters: [{ id: 'm1', driver: 'sdm630', bus: 'nowhere', unitId: 1 }],
      },
      cwd: dir.root,
      env: {},
      logger: createLogger({ level: 'silent', pretty: false }),
    });
    await host.start();
  });

  after(async () => {
    await host.stop();
    dir.cleanup();
  });

  const state = (id: string) => host.status().plugins.find((p) => p.id === id);

  it('finds plugins and drivers in the data dir by keyword, and ignores other packages', () => {
    const ids = host.status().plugins.map((p) => p.id);
    expect(ids).to.include.members(['good', 'load-crash', 'start-crash', 'callback-crash', 'stop-crash', 'bad-config', 'hang']);
    expect(ids.join()).to.not.include('unrelated');
    expect(host.drivers.get('fixture-meter')).to.not.equal(undefined);
    expect(host.drivers.get('sdm630')).to.not.equal(undefined);
  });

  it('refuses a plugin outside the host API range with a coded error', () => {
    const problem = host.status().discoveryProblems.find((p) => p.source.includes('meterhub-plugin-old-api'));
    expect(problem?.code).to.equal('METERHUB_ERR_PLUGIN_API_RANGE');
    expect(state('old-api')).to.equal(undefined);
  });

  it('reports an invalid driver file and keeps the valid one of the same package', () => {
    const problem = host.status().driverProblems.find((p) => p.file.endsWith('bad.json'));
    expect(problem?.code).to.equal('METERHUB_ERR_DRIVER_INVALID');
    expect(problem?.details.map((d) => d.path)).to.include('/registers/0/measurement');
  });

  it('starts the good plugin with its validated, frozen config and mounts its route', async () => {
    expect(state('good')?.state).to.equal('running');
    const res = await fetch(`http://127.0.0.1:${host.http.port}/good`);
    expect(await res.json()).to.deep.equal({ greeting: 'hi', readings: 0, frozen: true });
    expect(state('good')?.details?.['dir']).to.equal(`${dir.dataDir}/plugins/good`);
  });

  it('marks a plugin that throws at load as error and keeps the host up', () => {
    expect(state('load-crash')).to.include({ state: 'error' });
    expect(state('load-crash')?.error).to.include({ code: 'METERHUB_ERR_PLUGIN_LOAD', message: 'boom at load' });
  });

  it('marks a plugin that throws at start as error and rolls back what it registered', async () => {
    expect(state('start-crash')?.error).to.include({ code: 'METERHUB_ERR_PLUGIN_START', message: 'boom at start' });
    const res = await fetch(`http://127.0.0.1:${host.http.port}/start-crash`);
    expect(res.status).to.equal(404);
  });

  it('times out a plugin whose start never returns', () => {
    expect(state('hang')?.error?.code).to.equal('METERHUB_ERR_PLUGIN_START');
    expect(state('hang')?.error?.message).to.include('did not finish within 300 ms');
  });

  it('isolates a plugin with an invalid config, naming the field', () => {
    expect(state('bad-config')?.state).to.equal('error');
    expect(state('bad-config')?.error?.code).to.equal('METERHUB_ERR_CONFIG_INVALID');
    expect(JSON.stringify(state('bad-config')?.error)).to.include('/plugins/bad-config/config/threshold');
  });

  it('charges sync and async throws in reading callbacks to their plugin; others keep receiving', async () => {
    host.bus.publish(reading(1));
    await tick();
    host.bus.publish(reading(2));
    await tick();
    expect(state('callback-crash')?.error).to.include({ code: 'METERHUB_ERR_PLUGIN_CALLBACK', message: 'boom in callback' });
    expect(state('async-crash')?.error).to.include({ code: 'METERHUB_ERR_PLUGIN_CALLBACK', message: 'async boom in callback' });
    expect(fixtureLog().readings).to.have.length(2);
    expect(state('good')?.state).to.equal('running');
    const res = await fetch(`http://127.0.0.1:${host.http.port}/good`);
    expect(((await res.json()) as { readings: number }).readings).to.equal(2);
  });

  it('gives plugins read access to storage: the latest values of a meter', async () => {
    const res = await fetch(`http://127.0.0.1:${host.http.port}/good/latest?meter=m1`);
    expect(await res.json()).to.deep.equal({ ts: 1_700_000_000_002, values: { power: 2 } });
  });

  it('stops in reverse order: stop() first, then disposers newest first; a throwing stop ends as error', async () => {
    await host.stop();
    const events = fixtureLog().events;
    expect(events.slice(-3)).to.deep.equal(['good:stop', 'good:dispose-last', 'good:dispose-first']);
    expect(state('good')?.state).to.equal('stopped');
    expect(state('stop-crash')).to.deep.include({ state: 'error' });
    expect(state('stop-crash')?.error).to.include({ code: 'METERHUB_ERR_PLUGIN_STOP', message: 'boom at stop' });
    expect(host.http.server.listening).to.equal(false);
  });
});

describe('plugin host: required plugins and deny lists', () => {
  it('loads packages named in the config by path, with origin "path"', async () => {
    const dir = tempDataDir();
    const host = new Host({
      config: { dataDir: dir.dataDir, http: { port: 0 }, pluginPackages: [`${FIXTURE_PACKAGES}/meterhub-plugin-good`, 'meterhub-plugin-missing'] },
      cwd: dir.root, env: {}, logger: createLogger({ level: 'silent', pretty: false }),
    });
    await host.start();
    const good = host.status().plugins.find((p) => p.id === 'good');
    expect(good).to.include({ origin: 'path', state: 'running' });
    expect(host.status().discoveryProblems.find((p) => p.source === 'meterhub-plugin-missing')?.code).to.equal('METERHUB_ERR_PLUGIN_NOT_FOUND');
    await host.stop();
    dir.cleanup();
  });

  it('refuses to start when a required plugin fails', async () => {
    const dir = tempDataDir(['meterhub-plugin-start-crash']);
    const host = new Host({
      config: { dataDir: dir.dataDir, http: { port: 0 }, plugins: { 'start-crash': { required: true } } },
      cwd: dir.root, env: {}, logger: createLogger({ level: 'silent', pretty: false }),
    });
    try {
      await host.start();
      expect.fail('start should throw');
    } catch (err) {
      expect((err as { code: string }).code).to.equal('METERHUB_ERR_PLUGIN_START');
    } finally {
      await host.stop();
      dir.cleanup();
    }
  });

  it('does not load a denied package, and leaves a disabled plugin stopped', async () => {
    const dir = tempDataDir(['meterhub-plugin-good', 'meterhub-plugin-load-crash']);
    const host = new Host({
      config: { dataDir: dir.dataDir, http: { port: 0 }, discovery: { deny: ['meterhub-plugin-load-crash'] }, plugins: { good: { enabled: false } } },
      cwd: dir.root, env: {}, logger: createLogger({ level: 'silent', pretty: false }),
    });
    await host.start();
    const plugins = host.status().plugins.filter((p) => p.origin === 'npm');
    expect(plugins.map((p) => p.id)).to.deep.equal(['good']);
    expect(plugins[0]!.state).to.equal('disabled');
    await host.stop();
    dir.cleanup();
  });
});
