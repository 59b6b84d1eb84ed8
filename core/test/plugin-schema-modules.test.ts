import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { Host } from '../src/host.js';
import { createLogger } from '../src/logging/logger.js';
import { BUILTIN_PACKAGES, builtinPackageDirs } from '../../packages/meterhub/src/builtin-packages.js';
import { runCli } from '../../test-support/run-cli.js';
import { tempDataDir } from './helpers/temp-data-dir.js';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../../packages/meterhub/bin/meterhub.js', import.meta.url));
const silent = () => createLogger({ level: 'silent', pretty: false });
// Named here rather than taken from the suite's default, so the test stands alone.
const builtins = builtinPackageDirs();

describe('plugin schema modules: a config is checked without loading the plugins', function () {
  this.timeout(30000);
  let dir: ReturnType<typeof tempDataDir>;
  beforeEach(() => (dir = tempDataDir()));
  afterEach(() => dir.cleanup());

  it('each built-in plugin\'s factory returns the very objects its manifest\'s schema module exports', async () => {
    const host = new Host({ config: { dataDir: dir.dataDir }, cwd: dir.root, env: {}, logger: silent(), builtins });
    await host.prepare();
    const records = host.plugins.records;
    expect(records.length).to.equal(BUILTIN_PACKAGES.filter((name) => name.includes('/plugin-')).length);
    for (const r of records) {
      const file = r.entry.manifest.schema;
      expect(file, `${r.entry.name} has a meterhub.schema module`).to.be.a('string');
      const mod = (await import(pathToFileURL(join(r.entry.dir, file!)).href)) as Record<string, unknown>;
      expect(r.instance!.configSchema, `${r.id} configSchema`).to.equal(mod['configSchema']);
      expect(r.instance!.transports, `${r.id} transports`).to.equal(mod['transports']);
    }
  });

  it('a schemas-only host composes the same config schema as a loaded one, loads no plugin, and cannot start', async () => {
    const full = new Host({ config: { dataDir: dir.dataDir }, cwd: dir.root, env: {}, logger: silent(), builtins });
    await full.prepare();
    const light = new Host({ config: { dataDir: dir.dataDir }, cwd: dir.root, env: {}, logger: silent(), builtins, schemasOnly: true });
    await light.prepare();
    expect(light.schema()).to.deep.equal(full.schema());
    expect(light.plugins.records.map((r) => r.instance)).to.satisfy((xs: unknown[]) => xs.every((x) => x === undefined));
    expect(light.status().plugins.map((p) => p.state)).to.satisfy((xs: string[]) => xs.every((s) => s === 'loaded'));
    await light.start().then(() => expect.fail('started'), (err: Error) => expect(err.message).to.match(/cannot start/));
  });

  it('`meterhub validate` still reports a bad plugin config with its JSON path (exit 2)', async () => {
    writeFileSync(join(dir.root, 'meterhub.json'), JSON.stringify({ dataDir: './data', plugins: { socketio: { config: { pingIntervalMs: 5 } } } }));
    const r = await runCli(['validate'], dir.root);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.include('/plugins/socketio/config/pingIntervalMs');
  });

  it('a schema module that exports neither configSchema nor transports leaves that plugin in error; validate warns', async () => {
    const pkg = join(dir.dataDir, 'node_modules', 'meterhub-plugin-empty-schema');
    mkdirSync(pkg, { recursive: true });
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({
      name: 'meterhub-plugin-empty-schema', version: '1.0.0', type: 'module', main: 'index.js', keywords: ['meterhub-plugin'],
      meterhub: { kind: 'plugin', hostApi: '^1.0.0', schema: './schema.js' },
    }));
    writeFileSync(join(pkg, 'index.js'), 'export default () => ({ start() {} });\n');
    writeFileSync(join(pkg, 'schema.js'), 'export const configSchemas = {};\n');
    writeFileSync(join(dir.root, 'meterhub.json'), JSON.stringify({ dataDir: './data' }));
    const r = await runCli(['validate'], dir.root);
    expect(r.code).to.equal(0);
    expect(r.stdout).to.match(/warning: plugin empty-schema will not start: .*schema\.js \(meterhub\.schema\) exports neither configSchema nor transports/);
  });

  it('`meterhub validate` and `drivers` load none of the plugins\' or the server\'s libraries', async () => {
    writeFileSync(join(dir.root, 'meterhub.json'), JSON.stringify({ dataDir: './data' }));
    // Printed at exit: every CommonJS module the process loaded (express, knex and the others are CommonJS).
    const probe = `data:text/javascript,${encodeURIComponent(
      "import { createRequire } from 'node:module'; const c = createRequire(process.cwd() + '/').cache;" +
      "process.on('exit', () => process.stderr.write('LOADED ' + JSON.stringify(Object.keys(c)) + '\\n'));",
    )}`;
    for (const command of ['validate', 'drivers']) {
      // The first run may compile the validators (an empty cache); the second loads them as every later run does.
      await run(process.execPath, [CLI, command], { cwd: dir.root });
      const { stderr } = await run(process.execPath, ['--import', probe, CLI, command], { cwd: dir.root });
      const loaded = JSON.parse(/LOADED (.*)/.exec(stderr)![1]!) as string[];
      const heavy = loaded.filter((f) => /node_modules\/(express|knex|objection|pg|better-sqlite3|socket\.io|ws|mqtt|prom-client|exceljs|multer|modbus-serial|serialport|pino-pretty|ajv\/dist\/core\.js)\//.test(f) || /ajv\/dist\/core\.js$/.test(f));
      expect(heavy, command).to.deep.equal([]);
      expect(loaded.length, `${command}: modules loaded`).to.be.greaterThan(5);
    }
  });
});
