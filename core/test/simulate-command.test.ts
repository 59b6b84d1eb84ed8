import { expect } from 'chai';
import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseHostPort, parseUnitList } from '../src/cli/commands/simulate-command.js';

const CLI = fileURLToPath(new URL('../../packages/meterhub/bin/meterhub.js', import.meta.url));
const run = promisify(execFile);

describe('meterhub simulate', function () {
  this.timeout(30000);

  it('parses unit lists and host:port', () => {
    expect(parseUnitList('1,3-5,3')).to.deep.equal([1, 3, 4, 5]);
    expect(() => parseUnitList('0')).to.throw(/1 to 247/);
    expect(() => parseUnitList('a')).to.throw(/not a unit id/);
    expect(parseHostPort('5020')).to.deep.equal({ host: '127.0.0.1', port: 5020 });
    expect(parseHostPort('127.0.0.2:502')).to.deep.equal({ host: '127.0.0.2', port: 502 });
  });

  it('serves the requested driver and units over Modbus TCP and RTU over TCP, readable by mbpoll', async () => {
    const child = spawn(process.execPath, [CLI, 'simulate', '--driver', 'sdm630', '--tcp', '127.0.0.1:0', '--rtu-over-tcp', '127.0.0.1:0', '--unit', '1,2', '--gaps', 'exception'],
      { env: { PATH: process.env['PATH'] } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    try {
      const deadline = Date.now() + 15000;
      while (!out.includes('Ctrl-C') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(out).to.include('simulating Eastron SDM630-Modbus V2 (sdm630), unit(s) 1,2, gaps exception');
      const port = Number(/serving modbus-tcp 127\.0\.0\.1:(\d+)/.exec(out)?.[1]);
      expect(out).to.match(/serving rtu-over-tcp 127\.0\.0\.1:\d+/);
      const { stdout } = await run('mbpoll', ['-m', 'tcp', '-p', String(port), '-a', '2', '-t', '3:float', '-B', '-0', '-r', '70', '-c', '1', '-1', '127.0.0.1']);
      const hz = Number(/\[70\]:\s+(\S+)/.exec(stdout)?.[1]);
      expect(hz).to.be.within(49.5, 50.5);
    } finally {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGINT');
      await exited;
    }
  });

  it('refuses an unknown driver with a coded error', async () => {
    const r = await run(process.execPath, [CLI, 'simulate', '--driver', 'nope', '--tcp', '0']).catch((e: { code: number; stderr: string }) => e);
    expect((r as { code: number }).code).to.equal(1);
    expect((r as { stderr: string }).stderr).to.include('METERHUB_ERR_DRIVER_UNKNOWN');
  });
});
