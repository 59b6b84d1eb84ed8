import { expect } from 'chai';
import { AcquisitionRig, meter } from '../helpers/acquisition-rig.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('acquisition over Modbus TCP against the simulator', function () {
  this.timeout(30000);
  let rig: AcquisitionRig;
  afterEach(async () => rig?.stop());

  it('polls several meters on one bus, each with its own values, in coalesced requests', async () => {
    rig = await AcquisitionRig.start({
      units: [
        { unit: 1, driver: 'sdm630', pins: { voltageL1: 231.5, power: 4000 } },
        { unit: 2, driver: 'sdm630', pins: { voltageL1: 228.25, power: 1500 } },
        { unit: 3, driver: 'sdm230', pins: { voltageL1: 240.5, power: 800 } },
      ],
      meters: [meter('a', 1, 'sdm630'), meter('b', 2, 'sdm630'), meter('c', 3, 'sdm230')],
    });
    await rig.waitFor('3 readings of each meter', () => ['a', 'b', 'c'].every((id) => rig.of(id).length >= 3));
    const [a, b, c] = ['a', 'b', 'c'].map((id) => rig.of(id).at(-1)!);
    expect(a!.values).to.include({ voltageL1: 231.5, power: 4000 });
    expect(b!.values).to.include({ voltageL1: 228.25, power: 1500 });
    expect(c!.values).to.include({ voltageL1: 240.5, power: 800 });
    expect(Object.keys(a!.values)).to.have.length(86);
    expect(Object.keys(c!.values)).to.have.length(24);
    // Coalesced: 4 requests per full SDM630 snapshot, 4 for the SDM230 at its 60-register cap.
    expect(rig.meterStatus('a').requestsPerFullCycle).to.equal(4);
    expect(rig.meterStatus('c').requestsPerFullCycle).to.equal(4);
    const requests = rig.sim.unit(1).requests;
    const cycles = rig.meterStatus('a').cycles;
    expect(requests).to.be.within(4 * cycles, 4 * cycles + 4);
    expect(rig.busStatus().errors).to.deep.equal({ timeout: 0, crc: 0, exception: 0, frame: 0, connection: 0 });
  });

  it('polls only the selected measurements, accepting old parameter names', async () => {
    rig = await AcquisitionRig.start({
      units: [{ unit: 1, driver: 'sdm630' }],
      meters: [meter('a', 1, 'sdm630', { measurements: ['Phase 1 line to neutral volts', 'Total Active Power', 'importEnergy'] })],
    });
    await rig.waitFor('a reading', () => rig.of('a').length >= 1);
    expect(Object.keys(rig.of('a')[0]!.values).sort()).to.deep.equal(['importEnergy', 'power', 'voltageL1']);
  });

  it('splits a merged read refused with illegal address, remembers the split, and loses no value', async () => {
    rig = await AcquisitionRig.start({
      units: [{ unit: 1, driver: 'sdm630', gaps: 'exception', pins: { frequency: 50.25 } }],
      meters: [meter('a', 1, 'sdm630')],
    });
    await rig.waitFor('two readings', () => rig.of('a').length >= 2);
    expect(Object.keys(rig.of('a')[0]!.values)).to.have.length(86);
    expect(rig.of('a')[0]!.values['frequency']).to.equal(50.25);
    const status = rig.meterStatus('a');
    expect(status.learned.gapsRefused).to.equal(true);
    expect(status.requestsPerFullCycle).to.equal(15); // the contiguous documented runs of the SDM630
    // Learned once: later cycles get no more exceptions.
    const exceptions = rig.busStatus().errors!.exception;
    const cycles = status.cycles;
    await rig.waitFor('two more cycles', () => rig.meterStatus('a').cycles >= cycles + 2);
    expect(rig.busStatus().errors!.exception).to.equal(exceptions);
  });

  it('keeps polling healthy meters while one is silent, marks it offline, and back online when it returns', async () => {
    rig = await AcquisitionRig.start({
      units: [{ unit: 1, driver: 'sdm230' }, { unit: 2, driver: 'sdm230' }],
      meters: [meter('ok', 1, 'sdm230'), meter('dead', 2, 'sdm230')],
    });
    await rig.waitFor('both online', () => rig.meterStatus('dead').state === 'online' && rig.meterStatus('ok').state === 'online');
    rig.sim.unit(2).faults = { silent: true };
    await rig.waitFor('dead offline', () => rig.meterStatus('dead').state === 'offline');
    const before = rig.of('ok').length;
    const deadRequests = rig.sim.unit(2).requests;
    await sleep(2000);
    // 200 ms interval: ~10 cycles in 2 s. A silent neighbour may cost the odd timeout, never the schedule.
    expect(rig.of('ok').length - before).to.be.at.least(7);
    // Offline and backing off: a handful of probes, each a single request.
    expect(rig.sim.unit(2).requests - deadRequests).to.be.at.most(5);
    expect(rig.meterStatus('dead').lastError?.message).to.include('did not answer');
    rig.sim.unit(2).faults = {};
    await rig.waitFor('dead back online', () => rig.meterStatus('dead').state === 'online', 10000);
  });

  it('reconnects after the gateway drops the connection', async () => {
    rig = await AcquisitionRig.start({ units: [{ unit: 1, driver: 'sdm230' }], meters: [meter('a', 1, 'sdm230')] });
    await rig.waitFor('a reading', () => rig.of('a').length >= 1);
    rig.endpoint.dropConnections();
    await sleep(50);
    const after = rig.of('a').length;
    await rig.waitFor('readings after the drop', () => rig.of('a').length >= after + 3, 8000);
    expect(rig.endpoint.stats.connections).to.be.at.least(2);
    expect(rig.busStatus().connected).to.equal(true);
  });

  it('drops NaN values with a reason instead of storing them', async () => {
    rig = await AcquisitionRig.start({ units: [{ unit: 1, driver: 'sdm230' }], meters: [meter('a', 1, 'sdm230')] });
    await rig.waitFor('a reading', () => rig.of('a').length >= 1);
    rig.sim.unit(1).faults = { nan: true };
    await rig.waitFor('invalid values counted', () => rig.meterStatus('a').invalidValues > 0);
    const status = rig.meterStatus('a');
    expect(status.lastInvalid?.reason).to.match(/NaN/);
    for (const r of rig.of('a')) for (const v of Object.values(r.values)) expect(Number.isFinite(v)).to.equal(true);
  });

  it('applies meters added, changed and removed at run time within a cycle', async () => {
    rig = await AcquisitionRig.start({
      units: [{ unit: 1, driver: 'sdm230' }, { unit: 2, driver: 'sdm630', pins: { power: 123 } }],
      meters: [meter('a', 1, 'sdm230')],
    });
    await rig.waitFor('a reading', () => rig.of('a').length >= 1);
    const bus = rig.host.config.buses;
    await rig.host.acquisition!.apply(bus, [meter('a', 1, 'sdm230'), meter('new', 2, 'sdm630') as never]);
    await rig.waitFor('the new meter polled', () => rig.of('new').length >= 1, 1000);
    expect(rig.of('new')[0]!.values['power']).to.equal(123);
    await rig.host.acquisition!.apply(bus, [meter('new', 2, 'sdm630', { measurements: ['power'] }) as never]);
    await sleep(100);
    const aCount = rig.of('a').length;
    await rig.waitFor('the changed meter polled', () => Object.keys(rig.of('new').at(-1)!.values).length === 1, 1000);
    await sleep(500);
    expect(rig.of('a').length).to.equal(aCount);
    expect(rig.host.status().acquisition.meters.map((m) => m.id)).to.deep.equal(['new']);
  });

  it('skips slots instead of piling up when a cycle overruns its interval, and counts the overruns', async () => {
    // At 9600 baud a full SDM630 snapshot takes ~600 ms: longer than the 100 ms interval.
    rig = await AcquisitionRig.start({
      units: [{ unit: 1, driver: 'sdm630' }],
      wire: { baud: 9600, turnaroundMs: 10 },
      meters: [meter('a', 1, 'sdm630', { intervals: { instantMs: 100, counterMs: 100 } })],
      bus: { interRequestDelayMs: 60, responseTimeoutMs: 1000 },
    });
    await rig.waitFor('4 readings', () => rig.of('a').length >= 4, 10000);
    const ts = rig.of('a').map((r) => r.ts);
    for (let i = 1; i < ts.length; i++) expect(ts[i]! - ts[i - 1]!).to.be.at.least(400);
    expect(rig.meterStatus('a').overruns).to.be.greaterThan(0);
  });
});
