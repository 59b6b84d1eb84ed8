import { expect } from 'chai';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileDriver, isMeterhubError, type DriverDefinition } from '../src/index.js';
import { formatConformanceReport, runConformance, runDriverTestCli, type ConformanceReport } from '../src/conformance/index.js';
import { pollSimulator } from '../src/conformance/simulator-poll.js';

const example = fileURLToPath(new URL('../../examples/driver-sdm120', import.meta.url));
const sdm120 = (): DriverDefinition => JSON.parse(readFileSync(join(example, 'sdm120.json'), 'utf8')) as DriverDefinition;

/** Runs the `meterhub-driver-test` command in-process; returns its exit status and what it printed. */
async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runDriverTestCli(args, (t) => (out += `${t}\n`), (t) => (err += `${t}\n`));
  return { code, out, err };
}

describe('the conformance kit (@meterhub/sdk/conformance)', function () {
  this.timeout(30000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'meterhub-conformance-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('passes the example driver package: manifest, schema and semantics, and a poll of every measurement over Modbus TCP', async () => {
    const report = await runConformance(example);
    expect(report.ok).to.equal(true);
    expect(report.packageChecks.map((c) => c.ok)).to.deep.equal([true]);
    expect(report.definitions).to.have.length(1);
    expect(report.definitions[0]!.id).to.equal('sdm120');
    expect(report.definitions[0]!.checks.map((c) => [c.name, c.ok])).to.deep.equal([
      ['schema, vocabulary, units, overlaps, ranges and probes', true],
      ["polled the simulator over Modbus TCP with the host's read plan: 22 measurement(s) decode to the served values", true],
    ]);
    expect(formatConformanceReport(report, example).split('\n')).to.include.members(['sdm120.json (sdm120)', 'conformance: passed']);
  });

  it('names the manifest field and the register map entry at fault, and skips the poll of a definition that is not valid', async () => {
    const pkg = join(dir, 'broken-pkg');
    const def = sdm120() as unknown as { registers: Array<Record<string, unknown>> };
    def.registers[3]!['measurement'] = 'wattage';
    def.registers.push({ measurement: 'frequency', function: 'input', address: 1, type: 'float32', unit: 'Hz' });
    writeFileSync(join(dir, 'def.json'), JSON.stringify(def));
    mkdirSync(pkg);
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'x', keywords: ['modbus'], meterhub: { kind: 'driver', hostApi: '^2.0.0', definitions: ['../def.json', 'missing.json'] } }));
    const report = await runConformance(pkg);
    expect(report.ok).to.equal(false);
    expect(report.packageChecks[0]!.problems.map((p) => p.path)).to.deep.equal(['/keywords', '/meterhub/hostApi', '/meterhub/definitions/1']);
    const checks = report.definitions[0]!.checks;
    expect(checks).to.have.length(1);
    const problems = checks[0]!.problems.map((p) => `${p.path} ${p.message}`);
    expect(problems.some((p) => p.startsWith('/registers/3/measurement "wattage" is not in the measurement vocabulary'))).to.equal(true, problems.join('\n'));
    expect(problems.some((p) => /^\/registers\/22 frequency overlaps voltageL1/.test(p))).to.equal(true, problems.join('\n'));
  });

  it('the poll fails a value that does not decode to what was served, or that the host would drop', async () => {
    const driver = compileDriver({
      ...sdm120(),
      registers: [
        { measurement: 'voltageL1', function: 'input', address: 0, type: 'int16', unit: 'V', scale: 0.1 },
        { measurement: 'currentL1', function: 'input', address: 1, type: 'float32', unit: 'A' },
      ],
      limits: { maxRegistersPerRequest: 10, alignment: 1, gaps: 'exception' },
      probe: [{ measurement: 'voltageL1', min: 90, max: 270 }],
    });
    // 230.04 V does not fit 0.1 V steps; 2e6 A is a float the register carries but no meter measures.
    const problems = await pollSimulator(driver, new Map([['voltageL1', 230.04], ['currentL1', 2e6]]));
    expect(problems).to.have.length(2);
    expect(problems[0]).to.deep.include({ path: '/registers/0' });
    expect(problems[0]!.message).to.match(/^voltageL1: served 230\.04, decoded 230(\.0+\d*)? \(check type/);
    expect(problems[1]).to.deep.equal({ path: '/registers/1', message: 'currentL1: decoded 2000000, which the host would drop: 2000000 A is outside the plausible range -100000..100000' });
    expect(await pollSimulator(driver, new Map([['voltageL1', 230.1], ['currentL1', 5.5]]))).to.deep.equal([]);
  });

  it('meterhub-driver-test exits 0 on a pass, 1 on a failed check, 2 on a path that is neither a definition nor a package', async () => {
    const ok = await cli([example]);
    expect(ok.code, ok.err).to.equal(0);
    expect(ok.out.trim().split('\n').pop()).to.equal('conformance: passed');
    const json = await cli([example, '--json']);
    expect((JSON.parse(json.out) as ConformanceReport).ok).to.equal(true);
    writeFileSync(join(dir, 'unknown.json'), JSON.stringify({ ...sdm120(), registers: [{ measurement: 'volts', function: 'input', address: 0, type: 'float32', unit: 'V' }] }));
    const failed = await cli([join(dir, 'unknown.json')]);
    expect(failed.code).to.equal(1);
    expect(failed.out).to.match(/\/registers\/0\/measurement\s+"volts" is not in the measurement vocabulary/).and.include('conformance: 1 check(s) failed');
    const missing = await cli([join(dir, 'nothing-here')]);
    expect(missing.code).to.equal(2);
    expect(missing.err).to.include('METERHUB_ERR_VALIDATION').and.include('nothing-here: no such file or folder');
    expect((await cli(['--bogus'])).code).to.equal(2);
    let threw: unknown;
    await runConformance(join(dir, 'nothing-here')).catch((e: unknown) => (threw = e));
    expect(isMeterhubError(threw, 'METERHUB_ERR_VALIDATION')).to.equal(true);
  });
});
