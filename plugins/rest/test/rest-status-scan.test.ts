import { expect } from 'chai';
import type { Reading } from '@meterhub/sdk';
import { RestRig, VIEWER } from './rest-rig.js';

describe('REST API: status figures and bus scan', function () {
  this.timeout(30000);
  let rig: RestRig;
  let admin: string;
  let viewer: string;
  before(async () => {
    rig = await RestRig.start('sqlite');
    admin = (await rig.login()).access;
    viewer = (await rig.login(VIEWER)).access;
    await rig.waitFor('house online', async () => (await rig.request('GET', '/api/meters/house/', { token: admin })).body.status.online === true);
  });
  after(() => rig.stop());

  it('GET /api/status/ gives per-bus requests, errors by kind, latency percentiles, the ingest queue, spool and event-loop delay', async () => {
    expect((await rig.request('GET', '/api/status/')).status).to.equal(401);
    const r = await rig.request('GET', '/api/status/', { token: viewer });
    expect(r.status).to.equal(200);
    const bus = r.body.buses.find((b: { id: string }) => b.id === 'sim');
    expect(bus).to.include({ transport: 'modbus-tcp', state: 'running', connected: true });
    expect(bus.requests).to.be.greaterThan(0);
    expect(bus.errors).to.have.all.keys('timeout', 'crc', 'exception', 'frame', 'connection');
    expect(bus.latencyMs.p50).to.be.a('number');
    expect(bus.latencyMs.p99).to.be.at.least(bus.latencyMs.p50);
    expect(r.body.storage).to.include({ engine: 'sqlite', spooled: 0 });
    expect(r.body.storage.pending).to.be.a('number');
    expect(r.body.storage.stored).to.be.a('number');
    expect(r.body.eventLoop).to.have.property('p99Ms').that.is.a('number');
    expect(r.body.readings.taken).to.be.greaterThan(0);
  });

  it('GET /api/buses/ lists the configured buses', async () => {
    const r = await rig.request('GET', '/api/buses/', { token: viewer });
    expect(r.body).to.deep.equal([{ id: 'sim', transport: 'modbus-tcp', running: true }]);
  });

  it('a scan through the bus scheduler finds both units and their models while the bus keeps polling its meter', async () => {
    const house: Reading[] = [];
    const off = rig.host.readings.subscribe((reading) => void (reading.meterId === 'house' && house.push(reading)));
    const errorsBefore = rig.host.status().acquisition.buses[0]!.errors!;
    const connectionsBefore = rig.endpoint.stats.connections;
    try {
      const started = await rig.request('POST', '/api/buses/sim/scan/', { token: admin, body: { from: 1, to: 8, timeoutMs: 150 } });
      expect(started.status).to.equal(202);
      expect(started.body).to.include({ bus: 'sim', state: 'running' });
      expect(started.body.progress.total).to.equal(8);
      const path = `/api/buses/sim/scan/${started.body.id}/`;
      const seen = new Set<number>();
      let foundWhileRunning = false;
      let scan = started.body;
      const t0 = Date.now();
      while (scan.state === 'running') {
        expect(Date.now() - t0, 'scan took too long').to.be.below(20000);
        await new Promise((r) => setTimeout(r, 50));
        scan = (await rig.request('GET', path, { token: admin })).body;
        seen.add(scan.progress.done);
        if (scan.state === 'running' && scan.found.length > 0) foundWhileRunning = true;
      }
      expect(foundWhileRunning, 'units found are listed while the scan runs').to.equal(true);
      expect(scan.state).to.equal('done');
      expect(scan.progress).to.include({ done: 8, total: 8, found: 2 });
      expect(seen.size, 'progress advanced in steps').to.be.greaterThan(1);
      expect(scan.found.map((h: { unitId: number; driver: string }) => [h.unitId, h.driver])).to.deep.equal([[1, 'sdm630'], [2, 'sdm230']]);
      expect(scan.found[0].model).to.match(/SDM630/);
      expect(scan.configured).to.deep.equal({ 1: 'house' });
      // Six silent units at 150 ms each: the meter, polled every 200 ms, still got its turns between them.
      const during = house.filter((h) => h.ts >= Date.parse(scan.startedAt) && h.ts <= Date.parse(scan.finishedAt));
      expect(during.length, 'house readings during the scan').to.be.at.least(2);
      expect((await rig.request('GET', '/api/meters/house/', { token: admin })).body.status.state).to.equal('online');
      // The silent units' timeouts were the scan's (counted on the bus), none of house's polls failed.
      expect(rig.host.status().acquisition.buses[0]!.errors!.timeout - errorsBefore.timeout).to.be.at.least(6);
      // No second master: the scan used the bus's one connection.
      expect(rig.endpoint.stats.connections).to.equal(connectionsBefore);
    } finally {
      off();
    }
  });

  it('a viewer may not scan (403); bad input is a 400 naming the field; unknown bus or scan 404; one scan per bus (409)', async () => {
    expect((await rig.request('POST', '/api/buses/sim/scan/', { token: viewer, body: {} })).status).to.equal(403);
    const bad = await rig.request('POST', '/api/buses/sim/scan/', { token: admin, body: { from: 0 } });
    expect(bad.status).to.equal(400);
    expect(JSON.stringify(bad.body)).to.include('from');
    const reversed = await rig.request('POST', '/api/buses/sim/scan/', { token: admin, body: { from: 9, to: 3 } });
    expect(reversed.status).to.equal(400);
    expect(reversed.body.error.details[0].path).to.equal('to');
    expect((await rig.request('POST', '/api/buses/nope/scan/', { token: admin, body: {} })).status).to.equal(404);
    expect((await rig.request('GET', '/api/buses/sim/scan/unknown/', { token: admin })).status).to.equal(404);
    const first = await rig.request('POST', '/api/buses/sim/scan/', { token: admin, body: { from: 3, to: 40, timeoutMs: 100 } });
    expect(first.status).to.equal(202);
    expect((await rig.request('POST', '/api/buses/sim/scan/', { token: admin, body: { from: 3, to: 4 } })).status).to.equal(409);
    const cancelled = await rig.request('DELETE', `/api/buses/sim/scan/${first.body.id}/`, { token: admin });
    expect(cancelled.status).to.equal(204);
    await rig.waitFor('scan stopped', async () => (await rig.request('GET', `/api/buses/sim/scan/${first.body.id}/`, { token: admin })).body.state === 'cancelled');
    expect(rig.errorLogs()).to.deep.equal([]);
  });
});
