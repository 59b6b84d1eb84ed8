import { expect } from 'chai';
import { FC, MeterSimulator, SimulatorTcpEndpoint } from '../../src/index.js';
import { builtinDriver } from '../../../test-support/builtin-drivers.js';
import { readRequestPdu, rtuOverTcp, tcpPdu } from '../../../test-support/raw-modbus.js';

const voltageRead = readRequestPdu(FC.READ_INPUT, 0, 2);

describe('simulator: fault injection, switchable per unit at run time', () => {
  let sim: MeterSimulator;
  let tcp: SimulatorTcpEndpoint;
  let rtu: SimulatorTcpEndpoint;
  before(async () => {
    sim = new MeterSimulator();
    sim.addUnit(1, builtinDriver('sdm630'));
    sim.addUnit(2, builtinDriver('sdm230'));
    tcp = new SimulatorTcpEndpoint(sim, { framing: 'mbap' });
    rtu = new SimulatorTcpEndpoint(sim, { framing: 'rtu' });
    await tcp.listen();
    await rtu.listen();
  });
  afterEach(() => {
    sim.unit(1).faults = {};
    sim.unit(2).faults = {};
  });
  after(async () => {
    await tcp.close();
    await rtu.close();
  });

  it('silence: the faulty unit never answers while the other one does', async () => {
    sim.unit(1).faults = { silent: true };
    expect(await tcpPdu(tcp.port, 1, voltageRead, 250)).to.equal(undefined);
    expect(Buffer.isBuffer(await tcpPdu(tcp.port, 2, voltageRead))).to.equal(true);
    sim.unit(1).faults = {};
    expect(Buffer.isBuffer(await tcpPdu(tcp.port, 1, voltageRead))).to.equal(true);
  });

  it('delay: the answer comes late but correct', async () => {
    sim.unit(1).faults = { delayMs: 150 };
    const t0 = performance.now();
    const pdu = (await tcpPdu(tcp.port, 1, voltageRead, 1000)) as Buffer;
    expect(performance.now() - t0).to.be.at.least(145);
    expect(pdu.readFloatBE(2)).to.be.closeTo(230, 10);
  });

  it('exception: every request gets the chosen exception code', async () => {
    sim.unit(1).faults = { exception: 4 };
    expect(((await tcpPdu(tcp.port, 1, voltageRead)) as Buffer).toString('hex')).to.equal('8404');
  });

  it('corrupted CRC: RTU replies fail their CRC check; healthy ones pass', async () => {
    sim.unit(1).faults = { corruptCrc: true };
    const bad = await rtuOverTcp(rtu.port, 1, voltageRead);
    expect(Buffer.isBuffer(bad.reply)).to.equal(true);
    expect(bad.crcValid).to.equal(false);
    const good = await rtuOverTcp(rtu.port, 2, voltageRead);
    expect(good.crcValid).to.equal(true);
  });

  it('a request with a bad CRC is ignored, as a real meter does', async () => {
    const { rawExchange } = await import('../../../test-support/raw-modbus.js');
    const frame = Buffer.from('01040000000271cc', 'hex'); // last CRC byte wrong
    expect(await rawExchange(rtu.port, frame, 250)).to.equal(undefined);
    expect(rtu.stats.crcErrors).to.be.greaterThan(0);
  });

  it('dropped connection: the TCP connection closes instead of answering', async () => {
    sim.unit(1).faults = { dropConnection: true };
    expect(await tcpPdu(tcp.port, 1, voltageRead, 1000)).to.equal('closed');
  });

  it('NaN: float registers carry NaN', async () => {
    sim.unit(2).faults = { nan: true };
    const pdu = (await tcpPdu(tcp.port, 2, readRequestPdu(FC.READ_INPUT, 0, 8))) as Buffer;
    expect(Number.isNaN(pdu.readFloatBE(2))).to.equal(true);
    expect(Number.isNaN(pdu.readFloatBE(14))).to.equal(true);
  });
});
