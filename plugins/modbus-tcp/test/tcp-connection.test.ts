import { expect } from 'chai';
import { MeterSimulator, SimulatorTcpEndpoint } from '@meterhub/sdk';
import { builtinDriver } from '../../../test-support/builtin-drivers.js';
import { TcpConnection } from '../src/tcp-connection.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const options = (port: number) => ({ host: '127.0.0.1', port, baud: 9600, parity: 'none' as const, dataBits: 8 as const, stopBits: 1 as const });

describe('modbus-tcp plugin on modbus-serial', function () {
  this.timeout(10_000);
  let sim: MeterSimulator;
  let rtu: SimulatorTcpEndpoint;
  before(async () => {
    sim = new MeterSimulator();
    sim.addUnit(1, builtinDriver('sdm630')).pin('voltageL1', 231).pin('voltageL2', 232);
    rtu = new SimulatorTcpEndpoint(sim, { framing: 'rtu' });
    await rtu.listen();
  });
  after(() => rtu.close());

  it('rtu-over-tcp: a reply that comes after its request timed out is dropped, not taken as the answer to the next one', async () => {
    const conn = new TcpConnection(options(rtu.port), 'rtu');
    await conn.connect();
    try {
      sim.unit(1).faults = { delayMs: 200 };
      const late = await conn.read({ unitId: 1, function: 'input', address: 0, count: 2, timeoutMs: 100 }).catch((e: Error) => e);
      expect(late).to.be.an('error').with.property('code', 'METERHUB_ERR_MODBUS_TIMEOUT');
      sim.unit(1).faults = {};
      await sleep(250); // the late reply (L1 voltage) has arrived by now
      // Same shape (2 registers), other address: the library alone would hand over the buffered L1 reply.
      const data = await conn.read({ unitId: 1, function: 'input', address: 2, count: 2, timeoutMs: 500 });
      expect(data.readFloatBE(0)).to.equal(232);
    } finally {
      await conn.close();
    }
  });

  it('classifies exceptions, CRC errors and timeouts into the error catalog, naming the other TCP mode', async () => {
    const conn = new TcpConnection(options(rtu.port), 'rtu');
    await conn.connect();
    try {
      sim.unit(1).faults = { exception: 2 };
      const ex = await conn.read({ unitId: 1, function: 'input', address: 0, count: 2, timeoutMs: 500 }).catch((e: unknown) => e);
      expect(ex).to.include({ code: 'METERHUB_ERR_MODBUS_EXCEPTION', exceptionCode: 2 });
      sim.unit(1).faults = { corruptCrc: true };
      const crc = await conn.read({ unitId: 1, function: 'input', address: 0, count: 2, timeoutMs: 500 }).catch((e: unknown) => e);
      expect(crc).to.include({ code: 'METERHUB_ERR_MODBUS_CRC' });
      sim.unit(1).faults = { silent: true };
      const timeout = await conn.read({ unitId: 1, function: 'input', address: 0, count: 2, timeoutMs: 100 }).catch((e: Error) => e);
      expect(timeout).to.include({ code: 'METERHUB_ERR_MODBUS_TIMEOUT' });
      expect((timeout as Error).message).to.include('use transport "modbus-tcp"');
    } finally {
      sim.unit(1).faults = {};
      await conn.close();
    }
  });

  it('fails a request at once when the gateway drops the connection, and reads again after reconnecting', async () => {
    const tcp = new SimulatorTcpEndpoint(sim, { framing: 'mbap' });
    const conn = new TcpConnection(options(await tcp.listen()), 'mbap');
    try {
      await conn.connect();
      sim.unit(1).faults = { dropConnection: true };
      const t0 = performance.now();
      const dropped = await conn.read({ unitId: 1, function: 'input', address: 0, count: 2, timeoutMs: 5000 }).catch((e: unknown) => e);
      expect(dropped).to.include({ code: 'METERHUB_ERR_MODBUS_CONNECTION' });
      expect(performance.now() - t0).to.be.below(2000);
      expect(conn.connected).to.equal(false);
      sim.unit(1).faults = {};
      await conn.connect();
      expect((await conn.read({ unitId: 1, function: 'input', address: 0, count: 2, timeoutMs: 500 })).readFloatBE(0)).to.equal(231);
    } finally {
      sim.unit(1).faults = {};
      await conn.close();
      await tcp.close();
    }
  });
});
