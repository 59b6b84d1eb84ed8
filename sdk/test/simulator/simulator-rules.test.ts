import { expect } from 'chai';
import {
  compileDriver, encodeRegisters, FC, MeterSimulator, SimulatorTcpEndpoint,
} from '../../src/index.js';
import { builtinDriver } from '../../../test-support/builtin-drivers.js';
import { readRequestPdu, tcpPdu, writeRequestPdu } from '../../../test-support/raw-modbus.js';

const read = (address: number, count: number, fc: number = FC.READ_INPUT) => readRequestPdu(fc, address, count);
const isException = (pdu: unknown, code: number) =>
  Buffer.isBuffer(pdu) && pdu.length === 2 && (pdu[0]! & 0x80) !== 0 && pdu[1] === code;

describe('simulator: meter behaviour rules', () => {
  let sim: MeterSimulator;
  let ep: SimulatorTcpEndpoint;
  before(async () => {
    sim = new MeterSimulator();
    sim.addUnit(1, builtinDriver('sdm630'), { gaps: 'zero-fill' });
    sim.addUnit(2, builtinDriver('sdm630'), { gaps: 'exception' });
    sim.addUnit(3, builtinDriver('sdm230'));
    ep = new SimulatorTcpEndpoint(sim, { framing: 'mbap' });
    await ep.listen();
  });
  after(() => ep.close());

  it('zero-fill: an even read across undocumented addresses returns zeros there', async () => {
    // 42..47: avg L-N voltage at 42, nothing at 44, avg current at 46.
    const pdu = (await tcpPdu(ep.port, 1, read(42, 6))) as Buffer;
    expect(pdu[0]).to.equal(FC.READ_INPUT);
    expect(pdu[1]).to.equal(12);
    expect(pdu.readFloatBE(2)).to.be.closeTo(230, 10);
    expect(pdu.readUInt32BE(6)).to.equal(0);
    expect(pdu.readFloatBE(10)).to.be.greaterThan(0);
    // Far from any documented register, too.
    const far = (await tcpPdu(ep.port, 1, read(1000, 2))) as Buffer;
    expect(far.subarray(2).equals(Buffer.alloc(4))).to.equal(true);
  });

  it('exception mode: the same read gets exception 02, documented runs still read', async () => {
    expect(isException(await tcpPdu(ep.port, 2, read(42, 6)), 2)).to.equal(true);
    const ok = (await tcpPdu(ep.port, 2, read(0, 42))) as Buffer;
    expect(ok[1]).to.equal(84);
  });

  it('odd start, odd count, zero count and more than the model allows get exception 02 in both modes', async () => {
    for (const unit of [1, 2]) {
      expect(isException(await tcpPdu(ep.port, unit, read(1, 2)), 2), `odd start, unit ${unit}`).to.equal(true);
      expect(isException(await tcpPdu(ep.port, unit, read(0, 3)), 2), `odd count, unit ${unit}`).to.equal(true);
      expect(isException(await tcpPdu(ep.port, unit, read(0, 0)), 2), `zero count, unit ${unit}`).to.equal(true);
      expect(isException(await tcpPdu(ep.port, unit, read(0, 82)), 2), `82 registers, unit ${unit}`).to.equal(true);
    }
    const full = (await tcpPdu(ep.port, 1, read(0, 80))) as Buffer;
    expect(full[1]).to.equal(160);
  });

  it('SDM230 accepts 60 registers and refuses 62', async () => {
    expect(((await tcpPdu(ep.port, 3, read(0, 60))) as Buffer)[1]).to.equal(120);
    expect(isException(await tcpPdu(ep.port, 3, read(0, 62)), 2)).to.equal(true);
  });

  it('refuses to return part of a value', async () => {
    // A meter of 16-bit alignment with a 32-bit value at 1..2: reading from 2 would split it.
    const def = {
      ...builtinDriver('sdm230').definition,
      id: 'split-test',
      limits: { maxRegistersPerRequest: 10, alignment: 1, gaps: 'zero-fill' as const },
      registers: [
        { measurement: 'voltageL1', function: 'holding' as const, address: 0, type: 'uint16' as const, scale: 0.1, unit: 'V' },
        { measurement: 'power', function: 'holding' as const, address: 1, type: 'int32' as const, unit: 'W' },
      ],
      configRegisters: [],
      probe: [{ measurement: 'voltageL1', min: 90, max: 270 }],
    };
    const other = new MeterSimulator();
    other.addUnit(1, compileDriver(def)).pin('voltageL1', 231.4).pin('power', -1500);
    const ep2 = new SimulatorTcpEndpoint(other, { framing: 'mbap' });
    await ep2.listen();
    try {
      expect(isException(await tcpPdu(ep2.port, 1, read(2, 1, FC.READ_HOLDING)), 2)).to.equal(true);
      expect(isException(await tcpPdu(ep2.port, 1, read(0, 2, FC.READ_HOLDING)), 2)).to.equal(true);
      const whole = (await tcpPdu(ep2.port, 1, read(0, 3, FC.READ_HOLDING))) as Buffer;
      expect(whole.readUInt16BE(2)).to.equal(2314);
      expect(whole.readInt32BE(4)).to.equal(-1500);
    } finally {
      await ep2.close();
    }
  });

  it('an unsupported function code gets exception 01', async () => {
    expect(isException(await tcpPdu(ep.port, 1, Buffer.from([0x01, 0, 0, 0, 8])), 1)).to.equal(true);
    expect(isException(await tcpPdu(ep.port, 1, Buffer.from([0x06, 0, 2, 0, 5])), 1)).to.equal(true);
  });

  it('a unit id that is not there gets no answer at all', async () => {
    expect(await tcpPdu(ep.port, 9, read(0, 2), 250)).to.equal(undefined);
  });

  it('serves holding configuration registers and applies valid writes (FC16)', async () => {
    const period = (await tcpPdu(ep.port, 1, read(2, 2, FC.READ_HOLDING))) as Buffer;
    expect(period.readFloatBE(2)).to.equal(60);
    const ack = (await tcpPdu(ep.port, 1, writeRequestPdu(2, encodeRegisters(15, { type: 'float32' })))) as Buffer;
    expect(ack.toString('hex')).to.equal('1000020002');
    expect(((await tcpPdu(ep.port, 1, read(2, 2, FC.READ_HOLDING))) as Buffer).readFloatBE(2)).to.equal(15);
    expect(sim.unit(1).image.configValue('demandPeriod')).to.equal(15);
  });

  it('refuses writes of values the datasheet does not allow (03) and to read-only registers (02)', async () => {
    expect(isException(await tcpPdu(ep.port, 1, writeRequestPdu(2, encodeRegisters(7, { type: 'float32' }))), 3)).to.equal(true);
    expect(isException(await tcpPdu(ep.port, 1, writeRequestPdu(0, encodeRegisters(1, { type: 'float32' }))), 2)).to.equal(true);
  });

  it('answers a function it does not serve (diagnostics, single write) with exception 01', async () => {
    expect(((await tcpPdu(ep.port, 1, Buffer.from([0x08, 0x00, 0x00, 0xaa, 0x55]))) as Buffer).toString('hex')).to.equal('8801');
    expect(isException(await tcpPdu(ep.port, 1, Buffer.from([0x06, 0x00, 0x02, 0x00, 0x0f])), 1)).to.equal(true);
  });
});
