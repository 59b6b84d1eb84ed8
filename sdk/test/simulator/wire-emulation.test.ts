import { expect } from 'chai';
import { FC, MeterSimulator, rtuSilenceMs, SimulatorTcpEndpoint, wireTimeMs } from '../../src/index.js';
import { builtinDriver } from '../../../test-support/builtin-drivers.js';
import { readRequestPdu, tcpPdu } from '../../../test-support/raw-modbus.js';

// Only lower bounds are asserted: emulation may add scheduling jitter, never remove wire time.
describe('simulator: wire-speed emulation', function () {
  this.timeout(10000);
  const turnaroundMs = 10;
  let ep: SimulatorTcpEndpoint;
  before(async () => {
    const sim = new MeterSimulator();
    sim.addUnit(1, builtinDriver('sdm630'));
    sim.addUnit(2, builtinDriver('sdm630'));
    ep = new SimulatorTcpEndpoint(sim, { framing: 'mbap', wire: { baud: 9600, turnaroundMs, minSilenceMs: 60 } });
    await ep.listen();
  });
  after(() => ep.close());

  it('holds an 80-register reply back by its 9600-baud wire time plus turnaround', async () => {
    // Request 8 bytes, reply 5 + 160 bytes, 3.5 characters of silence, 10 ms turnaround.
    const expected = wireTimeMs(8 + 165, 9600) + rtuSilenceMs(9600) + turnaroundMs;
    expect(expected).to.be.closeTo(193.9, 0.1);
    const t0 = performance.now();
    const pdu = (await tcpPdu(ep.port, 1, readRequestPdu(FC.READ_INPUT, 0, 80), 2000)) as Buffer;
    expect(pdu[1]).to.equal(160);
    expect(performance.now() - t0).to.be.at.least(expected - 1);
  });

  it('serves one request at a time on the line, even from two connections', async () => {
    await new Promise((r) => setTimeout(r, 70));
    const one = wireTimeMs(8 + 9, 9600) + rtuSilenceMs(9600) + turnaroundMs;
    const t0 = performance.now();
    const request = (unit: number) => tcpPdu(ep.port, unit, readRequestPdu(FC.READ_INPUT, 0, 2), 2000).then(() => performance.now() - t0);
    const [a, b] = await Promise.all([request(1), request(2)]);
    expect(Math.max(a, b)).to.be.at.least(2 * one - 1);
  });

  it('ignores a request sent sooner than the 60 ms silence after a reply, and counts it', async () => {
    await new Promise((r) => setTimeout(r, 70));
    const before = ep.line.violations;
    await tcpPdu(ep.port, 1, readRequestPdu(FC.READ_INPUT, 0, 2), 2000);
    expect(await tcpPdu(ep.port, 1, readRequestPdu(FC.READ_INPUT, 0, 2), 150)).to.equal(undefined);
    expect(ep.line.violations).to.equal(before + 1);
    await new Promise((r) => setTimeout(r, 70));
    expect(Buffer.isBuffer(await tcpPdu(ep.port, 1, readRequestPdu(FC.READ_INPUT, 0, 2), 2000))).to.equal(true);
  });
});
