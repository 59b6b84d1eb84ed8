import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Reading } from '@meterhub/sdk';
import { createPtyPair } from '../../../test-support/pty-pair.js';
import { PYMODBUS_VALUES, startPymodbusServer } from '../../../test-support/pymodbus-server.js';
import { Host } from '../../src/host.js';
import { createLogger } from '../../src/logging/logger.js';
import { meter } from '../helpers/acquisition-rig.js';
import { tempDataDir } from '../helpers/temp-data-dir.js';

const CLI = fileURLToPath(new URL('../../../packages/meterhub/bin/meterhub.js', import.meta.url));
const run = promisify(execFile);
const SELECTED = ['voltageL1', 'voltageL2', 'voltageL3', 'power', 'frequency', 'importEnergy', 'totalEnergy'];
const EXPECTED: Record<string, number> = {
  voltageL1: PYMODBUS_VALUES[0]!, voltageL2: PYMODBUS_VALUES[2]!, voltageL3: PYMODBUS_VALUES[4]!, power: PYMODBUS_VALUES[52]!,
  frequency: PYMODBUS_VALUES[70]!, importEnergy: PYMODBUS_VALUES[72]!, totalEnergy: PYMODBUS_VALUES[342]!,
};

async function pollOnce(bus: Record<string, unknown>): Promise<Reading> {
  const dir = tempDataDir();
  const host = new Host({
    config: { dataDir: dir.dataDir, http: { port: 0 }, buses: [bus], meters: [meter('py', 1, 'sdm630', { bus: bus['id'], measurements: SELECTED })] },
    cwd: dir.root, env: {}, logger: createLogger({ level: 'silent', pretty: false }),
  });
  let first: Reading | undefined;
  host.bus.subscribe((r) => (first ??= r));
  try {
    await host.start();
    const deadline = Date.now() + 15000;
    while (!first && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    if (!first) throw new Error(`no reading: ${JSON.stringify(host.status().acquisition)}`);
    return first;
  } finally {
    await host.stop();
    dir.cleanup();
  }
}

function expectValues(values: Record<string, number>): void {
  for (const [m, v] of Object.entries(EXPECTED)) expect(values[m], m).to.be.closeTo(v, Math.abs(v) * 1e-6);
}

describe('acquisition against pymodbus, an independent Modbus slave', function () {
  this.timeout(60000);

  it('the host polls a pymodbus TCP server', async () => {
    const server = await startPymodbusServer('tcp');
    try {
      const reading = await pollOnce({ id: 'py', transport: 'modbus-tcp', host: '127.0.0.1', port: server.port, interRequestDelayMs: 5, responseTimeoutMs: 1000 });
      expectValues(reading.values);
    } finally {
      await server.stop();
    }
  });

  it('meterhub read prints the values of a pymodbus TCP server', async () => {
    const server = await startPymodbusServer('tcp');
    try {
      const { stdout } = await run(process.execPath, [CLI, 'read', '--driver', 'sdm630', '--tcp', `127.0.0.1:${server.port}`, '--unit', '1', '--json', '--timeout', '1000']);
      const out = JSON.parse(stdout) as { values: Record<string, number>; units: Record<string, string> };
      expectValues(out.values);
      expect(out.units['power']).to.equal('W');
    } finally {
      await server.stop();
    }
  });

  it('meterhub scan finds and identifies the pymodbus server\'s unit', async () => {
    const server = await startPymodbusServer('tcp');
    try {
      const { stdout } = await run(process.execPath, [CLI, 'scan', '--tcp', `127.0.0.1:${server.port}`, '--units', '1-3', '--timeout', '300', '--json']);
      const hits = JSON.parse(stdout) as Array<{ unitId: number; driver: string }>;
      // pymodbus serves SDM630-style values (three phase voltages) at unit 1 only.
      expect(hits.map((h) => [h.unitId, h.driver])).to.deep.equal([[1, 'sdm630']]);
    } finally {
      await server.stop();
    }
  });

  it('the host polls a pymodbus RTU server through a socat pty pair', async () => {
    const pty = await createPtyPair();
    const server = await startPymodbusServer('rtu', pty.a);
    try {
      const reading = await pollOnce({ id: 'py', transport: 'rtu', path: pty.b, baud: 9600, interRequestDelayMs: 20, responseTimeoutMs: 1500, retries: 2 });
      expectValues(reading.values);
    } finally {
      await server.stop();
      await pty.close();
    }
  });
});
