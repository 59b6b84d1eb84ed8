import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { compileDriver, MeterSimulator, SimulatorTcpEndpoint, type DriverDefinition, type Reading } from '@meterhub/sdk';
import { Host } from '../src/host.js';
import { createLogger } from '../src/logging/logger.js';
import { tempDataDir } from './helpers/temp-data-dir.js';
import { packPackage as pack, REPO as repo } from '../../test-support/pack-package.js';
import { runCli } from '../../test-support/run-cli.js';

describe('third-party kit: a driver and a plugin installed from tarballs, the conformance kit, scaffold and import', function () {
  this.timeout(180000);
  let dir: ReturnType<typeof tempDataDir>;
  let tarballs: string[];

  before(async () => {
    dir = tempDataDir();
    const dest = join(dir.root, 'tarballs');
    mkdirSync(dest);
    // The @meterhub packages come from this repo's own tarballs, never from the registry.
    tarballs = [await pack('sdk', dest), await pack('examples/driver-sdm120', dest), await pack('examples/plugin-threshold-alert', dest)];
  });
  after(() => dir.cleanup());

  it('installs the packed example driver and plugin into a data dir, lists them, and polls the SDM120 from the simulator', async () => {
    const root = join(dir.root, 'site');
    mkdirSync(root);
    // The config already names the driver the install brings: install must not refuse it.
    writeFileSync(join(root, 'meterhub.json'), JSON.stringify({
      dataDir: './data', http: { port: 0 },
      buses: [{ id: 'sim', transport: 'modbus-tcp', host: '127.0.0.1', port: 1502 }],
      meters: [{ id: 'shed', driver: 'sdm120', bus: 'sim', unitId: 1 }],
    }));
    const installed = await runCli(['plugins', 'install', ...tarballs], root, '', true);
    expect(installed.code, installed.stderr).to.equal(0);
    expect(existsSync(join(root, 'data', 'node_modules', 'meterhub-driver-eastron-sdm120', 'sdm120.json'))).to.equal(true);

    const list = await runCli(['plugins', 'list', '--json'], root);
    expect(list.code, list.stderr).to.equal(0);
    const rows = JSON.parse(list.stdout) as Array<{ kind: string; id: string; package: string; version: string; origin: string; status: string }>;
    expect(rows).to.deep.include({ kind: 'driver', id: 'sdm120', package: 'meterhub-driver-eastron-sdm120', version: '1.0.0', origin: 'npm', status: 'ok', problem: '' });
    expect(rows.find((r) => r.id === 'threshold-alert')).to.include({ kind: 'plugin', version: '1.0.0', origin: 'npm', status: 'ok' });
    expect(rows.find((r) => r.id === 'rest')).to.include({ origin: 'builtin' });

    // The simulator serves the driver's own register map; the host found the driver by keyword.
    const definition = JSON.parse(readFileSync(join(repo, 'examples/driver-sdm120/sdm120.json'), 'utf8')) as DriverDefinition;
    const sim = new MeterSimulator();
    sim.addUnit(1, compileDriver(definition)).pin('voltageL1', 229.5).pin('power', 500);
    const endpoint = new SimulatorTcpEndpoint(sim, { framing: 'mbap' });
    const port = await endpoint.listen();
    const alerts: Array<Record<string, unknown>> = [];
    const webhook: Server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        alerts.push(JSON.parse(body) as Record<string, unknown>);
        res.end('ok');
      });
    });
    await new Promise<void>((r) => webhook.listen(0, '127.0.0.1', r));
    writeFileSync(join(root, 'meterhub.json'), JSON.stringify({
      dataDir: './data', http: { port: 0 },
      buses: [{ id: 'sim', transport: 'modbus-tcp', host: '127.0.0.1', port, interRequestDelayMs: 2, unitSwitchDelayMs: 0 }],
      meters: [{ id: 'shed', driver: 'sdm120', bus: 'sim', unitId: 1, intervals: { instantMs: 200, counterMs: 200 } }],
      plugins: { 'threshold-alert': { required: true, config: { url: `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/hook`, above: 2000, hysteresis: 100 } } },
    }));
    const host = new Host({ configPath: join(root, 'meterhub.json'), cwd: root, env: {}, logger: createLogger({ level: 'silent', pretty: false }) });
    const readings: Reading[] = [];
    try {
      await host.start();
      host.bus.subscribe((r) => readings.push(r));
      const until = async (what: string, predicate: () => boolean) => {
        const deadline = Date.now() + 10000;
        while (!predicate()) {
          if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
          await new Promise((r) => setTimeout(r, 25));
        }
      };
      await until('a reading of the SDM120', () => readings.some((r) => r.values['voltageL1'] === 229.5));
      expect(readings.find((r) => r.values['voltageL1'] !== undefined)!.values).to.include({ voltageL1: 229.5, power: 500 });
      expect(alerts).to.have.length(0);
      sim.unit(1).pin('power', 3000);
      await until('the webhook alert', () => alerts.length === 1);
      expect(alerts[0]).to.include({ type: 'threshold-alert', meterId: 'shed', measurement: 'power', value: 3000, limit: 2000 });
      // Once per crossing: it re-arms only below 1900 W.
      await new Promise((r) => setTimeout(r, 600));
      expect(alerts).to.have.length(1);
      const plugin = host.status().plugins.find((p) => p.id === 'threshold-alert')!;
      expect(plugin).to.include({ state: 'running', origin: 'npm' });
      expect(plugin.details).to.deep.equal({ alerts: 1, failures: 0 });
    } finally {
      await host.stop();
      await endpoint.close();
      webhook.close();
    }
  });

  it('the conformance kit passes the example driver and the scaffold, and fails a broken definition with JSON paths and exit 1', async () => {
    const ok = await runCli(['driver', 'test', join(repo, 'examples/driver-sdm120')], dir.root);
    expect(ok.code, ok.stdout + ok.stderr).to.equal(0);
    expect(ok.stdout).to.include("polled the simulator over Modbus TCP with the host's read plan: 22 measurement(s) decode to the served values").and.include('conformance: passed');

    const created = await runCli(['driver', 'new', 'acme-em1', '--dir', join(dir.root, 'acme')], dir.root);
    expect(created.code, created.stderr).to.equal(0);
    expect(readdirSync(join(dir.root, 'acme')).sort()).to.deep.equal(['.gitignore', 'README.md', 'acme-em1.json', 'package.json']);
    const pkg = JSON.parse(readFileSync(join(dir.root, 'acme', 'package.json'), 'utf8')) as { keywords: string[]; meterhub: Record<string, unknown>; scripts: Record<string, string> };
    expect(pkg.keywords).to.include('meterhub-driver');
    expect(pkg.meterhub).to.deep.equal({ kind: 'driver', hostApi: '^1.0.0', definitions: ['acme-em1.json'] });
    expect(pkg.scripts['test']).to.equal('meterhub-driver-test .');
    expect((await runCli(['driver', 'test', join(dir.root, 'acme')], dir.root)).code).to.equal(0);

    const broken = JSON.parse(readFileSync(join(dir.root, 'acme', 'acme-em1.json'), 'utf8')) as DriverDefinition & { registers: Array<Record<string, unknown>> };
    broken.registers.push({ measurement: 'volts', function: 'input', address: 1, type: 'float32', unit: 'V' });
    writeFileSync(join(dir.root, 'broken.json'), JSON.stringify(broken));
    const failed = await runCli(['driver', 'test', join(dir.root, 'broken.json')], dir.root);
    expect(failed.code).to.equal(1);
    expect(failed.stdout).to.match(/\/registers\/1\/measurement\s+"volts" is not in the measurement vocabulary/);
    expect(failed.stdout).to.match(/\/registers\/1\s+volts overlaps voltageL1/);
    expect(failed.stdout).to.include('conformance: 1 check(s) failed');
  });

  it('imports a register table from CSV into a definition that passes the kit; bad rows name line and column', async () => {
    const csv = [
      'name,address,type,unit,measurement',
      'Voltage,30001,float,V,',
      'Current,30007,float,A,currentL1',
      '"Active power, total",30013,float32,W,power',
      'Frequency,30071,float,Hz,',
      'Import active energy,30073,float,kWh,importEnergy',
    ].join('\r\n');
    writeFileSync(join(dir.root, 'table.csv'), csv);
    const out = join(dir.root, 'imported.json');
    const imported = await runCli(['driver', 'import', join(dir.root, 'table.csv'), '--id', 'acme-em2', '--vendor', 'Acme', '--model', 'EM2', '--datasheet', 'https://example.com/em2.pdf', '--out', out], dir.root);
    expect(imported.code, imported.stderr).to.equal(0);
    const def = JSON.parse(readFileSync(out, 'utf8')) as DriverDefinition;
    expect(def.registers.map((r) => [r.measurement, r.function, r.address, r.type, r.docRegister])).to.deep.equal([
      ['voltageL1', 'input', 0, 'float32', 30001], ['currentL1', 'input', 6, 'float32', 30007], ['power', 'input', 12, 'float32', 30013],
      ['frequency', 'input', 70, 'float32', 30071], ['importEnergy', 'input', 72, 'float32', 30073],
    ]);
    expect((await runCli(['driver', 'test', out], dir.root)).code).to.equal(0);

    writeFileSync(join(dir.root, 'bad.csv'), 'name,address,type,unit\nWidgets,30001,float,V\nVoltage,abc,float,V\n');
    const bad = await runCli(['driver', 'import', join(dir.root, 'bad.csv'), '--id', 'x', '--vendor', 'X', '--model', 'X', '--datasheet', 'https://example.com/x.pdf'], dir.root);
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.include('/line/2/measurement').and.include('"Widgets" matches no vocabulary measurement');
    expect(bad.stderr).to.include('/line/3/address');
  });
});
