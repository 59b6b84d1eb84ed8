import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { MeterSimulator, SimulatorSerialEndpoint, SimulatorTcpEndpoint } from '../../src/index.js';
import { builtinDriver } from '../../../test-support/builtin-drivers.js';
import { createPtyPair, type PtyPair } from '../../../test-support/pty-pair.js';

const run = promisify(execFile);
const PYMODBUS = fileURLToPath(new URL('../../../test-support/pymodbus-read.py', import.meta.url));

/** Values pinned on the simulated meters; each master must read exactly these. */
const PINNED: Record<string, Record<string, number>> = {
  sdm630: { voltageL1: 231.5, voltageL2: 229.25, power: 4321.5, frequency: 49.98, importEnergy: 12345.5, totalEnergy: 12400.25 },
  sdm230: { voltageL1: 232.75, currentL1: 4.5, power: 987.25, frequency: 50.02, importEnergy: 678.5 },
};

function addressOf(driverId: string, measurement: string): number {
  return builtinDriver(driverId).byMeasurement.get(measurement)!.address;
}

/** mbpoll prints "[address]: value" per float. */
function parseMbpoll(stdout: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const m of stdout.matchAll(/^\[(\d+)\]:\s+(\S+)/gm)) out.set(Number(m[1]), Number(m[2]));
  return out;
}

async function mbpoll(target: { tcp?: number; serial?: string }, unit: number, address: number, floats: number): Promise<Map<number, number>> {
  const conn = target.tcp !== undefined ? ['-m', 'tcp', '-p', String(target.tcp)] : ['-m', 'rtu', '-b', '9600', '-P', 'none'];
  const args = [...conn, '-a', String(unit), '-t', '3:float', '-B', '-0', '-r', String(address), '-c', String(floats), '-1', '-o', '2',
    target.tcp !== undefined ? '127.0.0.1' : target.serial!];
  const { stdout } = await run('mbpoll', args, { timeout: 10000 });
  return parseMbpoll(stdout);
}

async function pymodbus(mode: string, target: string, unit: number, address: number, count: number): Promise<number[]> {
  const { stdout } = await run('/usr/bin/python3', [PYMODBUS, mode, target, String(unit), 'input', String(address), String(count)], { timeout: 15000 });
  const result = JSON.parse(stdout) as { floats?: number[]; error?: string };
  if (result.error) throw new Error(`pymodbus: ${result.error}`);
  return result.floats!;
}

function expectClose(actual: number | undefined, expected: number, label: string): void {
  expect(actual, label).to.be.a('number');
  expect(actual!, label).to.be.closeTo(expected, Math.abs(expected) * 1e-5 + 1e-3);
}

function makeSimulator(): MeterSimulator {
  const sim = new MeterSimulator();
  for (const [unit, id] of [[1, 'sdm630'], [2, 'sdm230']] as const) {
    const u = sim.addUnit(unit, builtinDriver(id));
    for (const [m, v] of Object.entries(PINNED[id]!)) u.pin(m, v);
  }
  return sim;
}

/**
 * Reads every pinned value through `read(address, floats)` and compares: one
 * block within the driver's request limit, then each value on its own.
 */
async function checkAll(read: (driverId: string, unit: number, address: number, floats: number) => Promise<Map<number, number>>): Promise<void> {
  for (const [unit, id] of [[1, 'sdm630'], [2, 'sdm230']] as const) {
    const pins = PINNED[id]!;
    const block = await read(id, unit, 0, 2);
    expectClose(block.get(0), pins['voltageL1']!, `${id} block @0`);
    for (const [m, v] of Object.entries(pins)) {
      const a = addressOf(id, m);
      expectClose((await read(id, unit, a, 1)).get(a), v, `${id} ${m} @${a}`);
    }
  }
}

describe('simulator interoperability with independent Modbus masters', function () {
  this.timeout(60000);

  describe('Modbus TCP', () => {
    let sim: MeterSimulator;
    let ep: SimulatorTcpEndpoint;
    before(async () => {
      sim = makeSimulator();
      ep = new SimulatorTcpEndpoint(sim, { framing: 'mbap' });
      await ep.listen();
    });
    after(() => ep.close());

    it('mbpoll reads SDM630 and SDM230 floats', async () => {
      await checkAll((_id, unit, address, floats) => mbpoll({ tcp: ep.port }, unit, address, floats));
    });

    it('pymodbus reads SDM630 and SDM230 floats', async () => {
      await checkAll(async (_id, unit, address, floats) => {
        const values = await pymodbus('tcp', `127.0.0.1:${ep.port}`, unit, address, floats * 2);
        return new Map(values.map((v, i) => [address + 2 * i, v]));
      });
    });
  });

  describe('RTU over a serial pty pair (socat)', () => {
    let sim: MeterSimulator;
    let pty: PtyPair;
    let ep: SimulatorSerialEndpoint;
    before(async () => {
      sim = makeSimulator();
      pty = await createPtyPair();
      ep = new SimulatorSerialEndpoint(sim, { path: pty.a, baud: 9600 });
      await ep.open();
    });
    after(async () => {
      await ep.close();
      await pty.close();
    });

    it('mbpoll reads SDM630 and SDM230 floats', async () => {
      await checkAll((_id, unit, address, floats) => mbpoll({ serial: pty.b }, unit, address, floats));
    });

    it('pymodbus reads SDM630 and SDM230 floats', async () => {
      await checkAll(async (_id, unit, address, floats) => {
        const values = await pymodbus('rtu', pty.b, unit, address, floats * 2);
        return new Map(values.map((v, i) => [address + 2 * i, v]));
      });
      expect(ep.stats.crcErrors).to.equal(0);
    });
  });

  describe('RTU over TCP (transparent gateway)', () => {
    it('pymodbus with an RTU framer over TCP reads SDM630 and SDM230 floats', async () => {
      const sim = makeSimulator();
      const ep = new SimulatorTcpEndpoint(sim, { framing: 'rtu' });
      await ep.listen();
      try {
        await checkAll(async (_id, unit, address, floats) => {
          const values = await pymodbus('rtu-over-tcp', `127.0.0.1:${ep.port}`, unit, address, floats * 2);
          return new Map(values.map((v, i) => [address + 2 * i, v]));
        });
      } finally {
        await ep.close();
      }
    });
  });
});
