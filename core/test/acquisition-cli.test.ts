import { expect } from 'chai';
import { execFile, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { MeterSimulator, SimulatorTcpEndpoint } from '@meterhub/sdk';
import { builtinDriver } from '../../test-support/builtin-drivers.js';
import { tempDataDir } from './helpers/temp-data-dir.js';

const CLI = fileURLToPath(new URL('../../packages/meterhub/bin/meterhub.js', import.meta.url));
const run = promisify(execFile);
const cli = (args: string[], cwd?: string) => run(process.execPath, [CLI, ...args], { cwd, env: { PATH: process.env['PATH'] }, timeout: 30000 });

describe('meterhub read, scan and status', function () {
  this.timeout(60000);
  let sim: MeterSimulator;
  let tcp: SimulatorTcpEndpoint;
  let rtu: SimulatorTcpEndpoint;
  before(async () => {
    sim = new MeterSimulator();
    sim.addUnit(2, builtinDriver('sdm230')).pin('power', 512.5);
    sim.addUnit(4, builtinDriver('sdm630')).pin('voltageL1', 230.5);
    tcp = new SimulatorTcpEndpoint(sim, { framing: 'mbap' });
    rtu = new SimulatorTcpEndpoint(sim, { framing: 'rtu' });
    await tcp.listen();
    await rtu.listen();
  });
  after(async () => {
    await tcp.close();
    await rtu.close();
  });

  it('read prints every measurement with its unit', async () => {
    const { stdout } = await cli(['read', '--driver', 'sdm230', '--tcp', `127.0.0.1:${tcp.port}`, '--unit', '2']);
    expect(stdout).to.match(/^power\s+512\.500 W\s+Active power$/m);
    expect(stdout).to.match(/^importEnergy\s+[\d.]+ kWh/m);
    expect(stdout).to.include('24 values from Eastron SDM230-Modbus unit 2 via modbus-tcp');
    expect(stdout).to.include('4 request(s)');
  });

  it('read over RTU-over-TCP, and a silent unit exits 1 with the reason', async () => {
    const { stdout } = await cli(['read', '--driver', 'sdm630', '--rtu-over-tcp', `127.0.0.1:${rtu.port}`, '--unit', '4', '--json']);
    expect((JSON.parse(stdout) as { values: Record<string, number> }).values['voltageL1']).to.equal(230.5);
    const err = await cli(['read', '--driver', 'sdm630', '--tcp', `127.0.0.1:${tcp.port}`, '--unit', '9', '--timeout', '200']).catch((e: { code: number; stderr: string }) => e);
    expect((err as { code: number }).code).to.equal(1);
    expect((err as { stderr: string }).stderr).to.include('METERHUB_ERR_MODBUS_TIMEOUT: unit 9 did not answer within 200 ms');
  });

  it('scan finds the responding unit ids in a short range and identifies each model', async () => {
    const { stdout } = await cli(['scan', '--tcp', `127.0.0.1:${tcp.port}`, '--units', '1-5', '--timeout', '150', '--json']);
    const hits = JSON.parse(stdout) as Array<{ unitId: number; driver: string; ambiguous: boolean; alternatives: Array<{ driver: string }>; lookalikes: Array<{ model: string }> }>;
    expect(hits.map((h) => [h.unitId, h.driver])).to.deep.equal([[2, 'sdm230'], [4, 'sdm630']]);
    // sdm230 and sdm230-2t answer the same probes; an SDM72D answers like an SDM630.
    expect(hits[0]!.ambiguous).to.equal(true);
    expect(hits[0]!.alternatives.map((a) => a.driver)).to.deep.equal(['sdm230-2t']);
    expect(hits[1]!.alternatives).to.deep.equal([]);
    expect(hits[1]!.lookalikes.map((l) => l.model)).to.deep.equal(['Eastron SDM72D-M']);
  });

  it('scan says when a match is ambiguous, and prints progress lines when stderr is not a terminal', async () => {
    const { stdout, stderr } = await cli(['scan', '--tcp', `127.0.0.1:${tcp.port}`, '--units', '1-3', '--timeout', '150']);
    expect(stdout).to.match(/unit {3}2: Eastron SDM230-Modbus \(driver sdm230\)/);
    expect(stdout).to.match(/ambiguous: drivers sdm230-2t .* match just as well/);
    expect(stderr).to.match(/^scan: 3\/3 unit id\(s\) tried, 1 found$/m);
  });

  it('start --demo polls the simulated meters, and status shows them from another process', async () => {
    const dir = tempDataDir();
    writeFileSync(join(dir.root, 'meterhub.json'), JSON.stringify({ dataDir: './data', http: { port: 0 } }));
    const child = spawn(process.execPath, [CLI, 'start', '--demo'], { cwd: dir.root, env: { PATH: process.env['PATH'] } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      const deadline = Date.now() + 20000;
      while (!(out.includes('first reading from demo-sdm630') && out.includes('first reading from demo-sdm230')) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(out).to.include('first reading from demo-sdm630: 86 values');
      expect(out).to.include('first reading from demo-sdm230: 24 values');
      const { stdout } = await cli(['status'], dir.root);
      expect(stdout).to.match(/demo-sdm630\s+online\s+sdm630 unit 2 on demo/);
      expect(stdout).to.match(/demo-sdm230\s+online\s+sdm230 unit 1 on demo/);
      expect(stdout).to.match(/demo\s+connected\s+modbus-tcp 127\.0\.0\.1:\d+/);
      const json = JSON.parse((await cli(['status', '--json'], dir.root)).stdout) as { acquisition: { meters: Array<{ requestsPerFullCycle: number }> } };
      expect(json.acquisition.meters.map((m) => m.requestsPerFullCycle)).to.deep.equal([4, 4]);
    } finally {
      const exited = new Promise<number | null>((r) => child.once('exit', r));
      child.kill('SIGTERM');
      expect(await exited).to.equal(0);
    }
    const after = await cli(['status'], dir.root).catch((e: { code: number; stderr: string }) => e);
    expect((after as { code: number }).code).to.equal(1);
    expect((after as { stderr: string }).stderr).to.include('METERHUB_ERR_HOST_NOT_RUNNING');
    dir.cleanup();
  });
});
