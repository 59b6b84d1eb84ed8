import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DriverDefinition } from '@meterhub/sdk';
import { outsideEnv, packPackage, REPO } from '../../test-support/pack-package.js';
import { runCli } from '../../test-support/run-cli.js';

const SDK_VERSION = (JSON.parse(readFileSync(join(REPO, 'sdk/package.json'), 'utf8')) as { version: string }).version;

/** Runs npm in `cwd` as a user would there; resolves with its exit code and output, never rejects. */
function npm(args: string[], cwd: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile('npm', args, { cwd, env: outsideEnv(), maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: `${stdout}\n${stderr}` });
    });
  });
}

// What a third party does: `meterhub driver new`, then, in its own folder far
// from this repository, install the SDK (here its packed tarball) and `npm test`.
describe('a scaffolded driver package tests itself outside this repository with only the SDK installed', function () {
  this.timeout(120000);
  let root: string;
  let pkgDir: string;
  let sdkTarball: string;

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'meterhub-driver-kit-'));
    mkdirSync(join(root, 'tarballs'));
    sdkTarball = await packPackage('sdk', join(root, 'tarballs'));
    pkgDir = join(root, 'meterhub-driver-acme-em1');
    const created = await runCli(['driver', 'new', 'acme-em1', '--dir', pkgDir], root);
    expect(created.code, created.stderr).to.equal(0);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('scaffolds a package that depends on @meterhub/sdk alone and tests with its meterhub-driver-test', () => {
    expect(pkgDir.startsWith(REPO)).to.equal(false);
    expect(readdirSync(pkgDir).sort()).to.deep.equal(['.gitignore', 'README.md', 'acme-em1.json', 'package.json']);
    const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(pkg['keywords']).to.include('meterhub-driver');
    expect(pkg['dependencies']).to.equal(undefined);
    expect(pkg['devDependencies']).to.deep.equal({ '@meterhub/sdk': `^${SDK_VERSION}` });
    expect(pkg['scripts']).to.deep.equal({ test: 'meterhub-driver-test .' });
    const def = JSON.parse(readFileSync(join(pkgDir, 'acme-em1.json'), 'utf8')) as DriverDefinition;
    expect(def.datasheets).to.have.length(1);
    expect(def.registers[0]).to.include({ docRegister: 30001 });
    expect(readFileSync(join(pkgDir, 'README.md'), 'utf8')).to.include('Datasheet:').and.include('meterhub-driver-test');
  });

  it('`npm install` of the SDK tarball, then `npm test` passes; a broken register map fails it naming the entries at fault', async () => {
    const t0 = Date.now();
    const installed = await npm(['install', '--prefer-offline', '--no-audit', '--no-fund', sdkTarball], pkgDir);
    expect(installed.code, installed.out).to.equal(0);
    const installSeconds = (Date.now() - t0) / 1000;
    // Nothing of the host came with it.
    expect(readdirSync(join(pkgDir, 'node_modules', '@meterhub'))).to.deep.equal(['sdk']);
    expect(existsSync(join(pkgDir, 'node_modules', 'meterhub'))).to.equal(false);

    const t1 = Date.now();
    const passed = await npm(['test'], pkgDir);
    const testSeconds = (Date.now() - t1) / 1000;
    expect(passed.code, passed.out).to.equal(0);
    expect(passed.out).to.match(/ok {3}polled the simulator over Modbus TCP with the host's read plan: 1 measurement\(s\) decode/);
    expect(passed.out).to.include('conformance: passed');

    const file = join(pkgDir, 'acme-em1.json');
    const def = JSON.parse(readFileSync(file, 'utf8')) as DriverDefinition & { registers: Array<Record<string, unknown>> };
    // An unknown measurement at an address that overlaps voltageL1's float.
    def.registers.push({ measurement: 'volts', function: 'input', address: 1, type: 'float32', unit: 'V' });
    writeFileSync(file, JSON.stringify(def, null, 2));
    const failed = await npm(['test'], pkgDir);
    expect(failed.code, failed.out).to.not.equal(0);
    expect(failed.out).to.match(/FAIL schema, vocabulary, units, overlaps, ranges and probes/);
    expect(failed.out).to.match(/\/registers\/1\/measurement\s+"volts" is not in the measurement vocabulary/);
    expect(failed.out).to.match(/\/registers\/1\s+volts overlaps voltageL1/);
    expect(failed.out).to.include('conformance: 1 check(s) failed');
    console.log(`      SDK tarball install ${installSeconds.toFixed(1)} s, npm test ${testSeconds.toFixed(1)} s`);
  });
});
