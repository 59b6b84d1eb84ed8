import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDataDir } from './helpers/temp-data-dir.js';

// The built CLI, as users run it (`npm test` builds first).
const CLI = fileURLToPath(new URL('../../packages/meterhub/bin/meterhub.js', import.meta.url));

function run(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', env: { PATH: process.env['PATH'], ...env }, timeout: 20000 });
}

describe('meterhub CLI', function () {
  this.timeout(30000);
  let dir: ReturnType<typeof tempDataDir>;
  beforeEach(() => {
    dir = tempDataDir();
  });
  afterEach(() => dir.cleanup());

  it('validate: prints every problem with its path and exits 2', () => {
    const file = join(dir.root, 'bad.json');
    writeFileSync(file, JSON.stringify({
      http: { port: 'x' }, plugins: { ghost: {} }, buses: [{ id: 'b', transport: 'modbus-tcp', host: '127.0.0.1', port: 502 }],
      meters: [{ id: 'm', bus: 'b', unitId: 1 }],
    }));
    const r = run(['validate', '--config', file], dir.root);
    expect(r.status).to.equal(2);
    expect(r.stderr).to.include('METERHUB_ERR_CONFIG_INVALID');
    expect(r.stderr).to.match(/\/http\/port\s+must be integer/);
    expect(r.stderr).to.match(/\/plugins\/ghost\s+is not a loaded plugin/);
    expect(r.stderr).to.match(/\/meters\/0\/driver\s+is required/);
  });

  it('validate: broken JSON names the line and exits 2; a missing file exits 2', () => {
    writeFileSync(join(dir.root, 'meterhub.json'), '{\n  "http": {\n    "port": 80,\n  }\n}');
    const r = run(['validate'], dir.root);
    expect(r.status).to.equal(2);
    expect(r.stderr).to.match(/not valid JSON \(line 4/);
    const missing = run(['validate', '--config', 'nope.json'], dir.root);
    expect(missing.status).to.equal(2);
    expect(missing.stderr).to.include('METERHUB_ERR_CONFIG_READ');
  });

  it('validate: METERHUB_CONFIG selects the file; a good file exits 0', () => {
    writeFileSync(join(dir.root, 'other.json'), JSON.stringify({ dataDir: './d' }));
    const r = run(['validate'], dir.root, { METERHUB_CONFIG: 'other.json' });
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.include('other.json: valid (3 drivers');
  });

  it('config schema: prints the composed schema with the loaded driver ids', () => {
    const r = run(['config', 'schema'], dir.root);
    expect(r.status, r.stderr).to.equal(0);
    const schema = JSON.parse(r.stdout) as { properties: { meters: { items: { properties: { driver: { enum: string[] } } } } } };
    expect(schema.properties.meters.items.properties.driver.enum).to.deep.equal(['sdm230', 'sdm230-2t', 'sdm630']);
  });

  it('import-legacy: writes an equivalent meterhub.json that validates', () => {
    writeFileSync(join(dir.root, 'setting.json'), JSON.stringify({
      Logger_ID: 'L1', Device_IP: '127.0.0.1', Device_Port: 502, Troubleshoot: false,
      meterlist: [{ name: 'Main', id: 1, model: 'SDM630', paramlist: ['Total Active Power'] }],
    }));
    const r = run(['import-legacy', 'setting.json'], dir.root);
    expect(r.status, r.stderr).to.equal(0);
    const written = JSON.parse(readFileSync(join(dir.root, 'meterhub.json'), 'utf8')) as { meters: Array<{ measurements: string[] }> };
    expect(written.meters[0]!.measurements).to.deep.equal(['power']);
    expect(run(['validate'], dir.root).status).to.equal(0);
    expect(run(['import-legacy', 'setting.json'], dir.root).status).to.equal(2); // refuses to overwrite
  });

  it('import-legacy --uplink writes an edge collector config; without --key it exits 2', () => {
    const key = 'mh_' + 'k'.repeat(40);
    writeFileSync(join(dir.root, 'setting.json'), JSON.stringify({ Logger_ID: 'L1', Device_IP: '127.0.0.1', Device_Port: 502, meterlist: [{ name: 'Main', id: 1, model: 'SDM630' }] }));
    const r = run(['import-legacy', 'setting.json', '--out', 'collector.json', '--uplink', 'https://energy.example.org', '--key', key], dir.root);
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.include('forwarding to https://energy.example.org').and.not.include(key);
    const written = JSON.parse(readFileSync(join(dir.root, 'collector.json'), 'utf8')) as { plugins: Record<string, { config: Record<string, unknown> }> };
    expect(written.plugins['uplink']!.config).to.deep.equal({ url: 'https://energy.example.org', key });
    expect(run(['validate', '--config', 'collector.json'], dir.root).status).to.equal(0);
    const noKey = run(['import-legacy', 'setting.json', '--out', 'other.json', '--uplink', 'https://energy.example.org'], dir.root);
    expect(noKey.status).to.equal(2);
    expect(noKey.stderr).to.include('--uplink needs --key');
  });

  it('start: logs the loaded drivers, serves HTTP, and exits 0 on SIGINT', async () => {
    const child = spawn(process.execPath, [CLI, 'start'], { cwd: dir.root, env: { PATH: process.env['PATH'], PORT: '0' } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const deadline = Date.now() + 15000;
    while (!out.includes('HTTP server listening') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(out).to.include('loaded 3 driver(s): sdm230, sdm230-2t, sdm630');
    const port = Number(/"port":(\d+)/.exec(out)?.[1]);
    const res = await fetch(`http://127.0.0.1:${port}/nothing-here`);
    expect(res.status).to.equal(404);
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.kill('SIGINT');
    expect(await exited).to.equal(0);
    expect(out).to.include('"msg":"stopped"');
    expect(existsSync(join(dir.root, 'data'))).to.equal(true);
  });

  it('start honours log.pretty from the config, even when stdout is not a terminal', async () => {
    writeFileSync(join(dir.root, 'pretty.json'), JSON.stringify({ log: { pretty: true }, http: { port: 0 } }));
    const child = spawn(process.execPath, [CLI, 'start', '--config', 'pretty.json'], { cwd: dir.root, env: { PATH: process.env['PATH'] } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const deadline = Date.now() + 15000;
    while (!out.includes('HTTP server listening') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.kill('SIGINT');
    expect(await exited).to.equal(0);
    // pino-pretty's lines: a time, a level word, the message; no JSON objects.
    expect(out).to.match(/INFO.*HTTP server listening/);
    expect(out).to.not.include('"msg":');
  });
});
