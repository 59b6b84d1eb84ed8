import { expect } from 'chai';
import type { ModbusRequest } from '@meterhub/sdk';
import { AcquisitionRig } from '../helpers/acquisition-rig.js';

const MEASUREMENTS = ['voltageL1', 'currentL1', 'power', 'frequency'];

describe('bus scan on a running bus', function () {
  this.timeout(20000);
  let rig: AcquisitionRig;
  const requested: number[] = [];
  before(async () => {
    rig = await AcquisitionRig.start({
      units: [{ unit: 1, driver: 'sdm630' }, { unit: 2, driver: 'sdm230' }],
      // One request per register: a cycle of the meter is 4 requests in a row.
      meters: [{ id: 'm1', driver: 'sdm630', bus: 'b1', unitId: 1, measurements: MEASUREMENTS, requestMode: 'per-register', intervals: { instantMs: 200, counterMs: 200 } }],
    });
    // Which unit each request on the wire addressed, in order.
    const handle = rig.sim.handle.bind(rig.sim);
    rig.sim.handle = (request: ModbusRequest) => {
      requested.push(request.unitId);
      return handle(request);
    };
    await rig.waitFor('m1 polled', () => rig.of('m1').length > 0);
  });
  after(() => rig.stop());

  it('probes unit ids between whole poll cycles, and the meter keeps being polled', async () => {
    requested.length = 0;
    const t0 = Date.now();
    const progress: number[] = [];
    const units = Array.from({ length: 15 }, (_, i) => i + 2);
    const hits = await rig.host.acquisition!.scan('b1', { units, timeoutMs: 100, onProgress: (p) => progress.push(p.done) });
    const t1 = Date.now();
    expect(hits.map((h) => [h.unitId, h.driver])).to.deep.equal([[2, 'sdm230']]);
    expect(progress).to.deep.equal(Array.from({ length: 16 }, (_, i) => i));
    // Cycles stay whole: every run of requests to unit 1 is a number of complete cycles.
    const cycleRuns: number[] = [];
    requested.forEach((u, i) => {
      if (u !== 1) return;
      if (i > 0 && requested[i - 1] === 1) cycleRuns[cycleRuns.length - 1]!++;
      else cycleRuns.push(1);
    });
    // The first run may be the tail of a cycle that was under way when the scan began.
    cycleRuns.shift();
    expect(cycleRuns.every((n) => n % MEASUREMENTS.length === 0), `runs of unit-1 requests: ${cycleRuns.join(',')}`).to.equal(true);
    // The meter, due every 200 ms, got its turns between the scan's unit ids (14 silent ones at 100 ms each).
    expect(rig.of('m1').filter((r) => r.ts >= t0 && r.ts <= t1).length).to.be.at.least(3);
    expect(rig.meterStatus('m1').state).to.equal('online');
  });

  it('refuses a second scan of the same bus, an unknown bus and bad unit ids', async () => {
    const first = rig.host.acquisition!.scan('b1', { units: [3, 4], timeoutMs: 50 });
    const code = (p: Promise<unknown>) => p.then(() => 'resolved', (e: { code: string }) => e.code);
    expect(await code(rig.host.acquisition!.scan('b1', { units: [3] }))).to.equal('METERHUB_ERR_CONFLICT');
    await first;
    expect(await code(rig.host.acquisition!.scan('nope', { units: [3] }))).to.equal('METERHUB_ERR_HTTP_NOT_FOUND');
    expect(await code(rig.host.acquisition!.scan('b1', { units: [0] }))).to.equal('METERHUB_ERR_VALIDATION');
    expect(await code(rig.host.acquisition!.scan('b1', { units: [] }))).to.equal('METERHUB_ERR_VALIDATION');
  });
});
