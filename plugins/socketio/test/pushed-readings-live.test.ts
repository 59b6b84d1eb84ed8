import { expect } from 'chai';
import { formatStatus } from '../../../core/src/cli/commands/status-command.js';
import { RestRig } from '../../rest/test/rest-rig.js';
import { SioClient, WsClient } from './live-clients.js';

/** The fields of a live reading message, whatever the source. */
const shape = (m: Record<string, unknown>) => Object.keys(m).sort().join(',');

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`one reading pipeline on ${engine}: submitted readings stream like polled ones`, function () {
    this.timeout(30000);
    let rig: RestRig;
    let token: string;
    const clients: Array<{ close(): void }> = [];

    before(async () => {
      rig = await RestRig.start(engine);
      token = (await rig.login()).access;
      // A pushed meter beside the polled "house": no bus, no driver.
      const created = await rig.request('POST', '/api/meters/', { token, body: { id: 'porch', name: 'Porch' } });
      expect(created.status).to.equal(201);
      expect(created.body).to.not.have.property('bus');
    });
    afterEach(() => {
      for (const c of clients.splice(0)) c.close();
    });
    after(() => rig.stop());

    it('a reading POSTed over HTTP reaches socket.io and WebSocket subscribers at once, in the polled readings\' shape', async () => {
      const sio = new SioClient(rig.base, { token });
      const ws = new WsClient(`ws://127.0.0.1:${rig.host.http.port}/ws/meters/?token=${token}`);
      clients.push(sio, ws);
      await Promise.all([sio.connected(), ws.open()]);
      expect(await sio.subscribe({ meters: ['porch', 'house'] })).to.include({ ok: true });
      ws.send({ type: 'subscribe', meters: ['porch', 'house'] });
      await ws.until('ack', () => ws.of('ack').length === 1);
      await sio.until('a polled reading', () => sio.of('reading', 'house').length > 0);
      await ws.until('a polled reading on the WebSocket', () => ws.of('reading', 'house').length > 0);

      const ts = Date.now();
      const posted = await rig.request('POST', '/api/meters/porch/power/', { token, body: { timestamp: ts, values: { power: 1234.5, voltageL1: 229.5 } } });
      expect(posted.status).to.equal(201);
      await sio.until('the pushed reading on socket.io', () => sio.of('reading', 'porch').length === 1);
      await ws.until('the pushed reading on the WebSocket', () => ws.of('reading', 'porch').length === 1);
      for (const c of [sio, ws]) {
        const pushed = c.of('reading', 'porch')[0]!;
        const polled = c.of('reading', 'house').at(-1)!;
        expect(pushed).to.deep.include({ type: 'reading', v: 1, meterId: 'porch', ts, values: { power: 1234.5, voltageL1: 229.5 }, source: 'push' });
        expect(polled['source']).to.equal('poll');
        expect(shape(pushed)).to.equal(shape(polled));
      }
      // REST latest and a new subscriber's snapshot read the same one store.
      const latest = await rig.request('GET', '/api/meters/porch/power/latest/', { token });
      expect(latest.body.values).to.deep.equal({ power: 1234.5, voltageL1: 229.5 });
      const late = new SioClient(rig.base, { token });
      clients.push(late);
      await late.connected();
      await late.subscribe({ meters: ['porch'] });
      await late.until('snapshot', () => late.of('snapshot', 'porch').length === 1);
      expect(late.of('snapshot', 'porch')[0]).to.deep.include({ ts, values: { power: 1234.5, voltageL1: 229.5 }, state: 'online' });
    });

    it('an older reading is stored and marked replay, leaves latest where it was, and is left out for clients that asked so', async () => {
      const all = new SioClient(rig.base, { token });
      const liveOnly = new SioClient(rig.base, { token });
      clients.push(all, liveOnly);
      await Promise.all([all.connected(), liveOnly.connected()]);
      await all.subscribe({ meters: ['porch'] });
      expect(await liveOnly.subscribe({ meters: ['porch'], replay: false })).to.include({ ok: true, replay: false });
      const newest = Date.now();
      await rig.request('POST', '/api/meters/porch/power/', { token, body: { timestamp: newest, values: { power: 2000 } } });
      const old = newest - 3_600_000;
      await rig.request('POST', '/api/meters/porch/power/', { token, body: [{ timestamp: old, values: { power: 5 } }, { timestamp: old + 1000, values: { power: 6 } }] });
      await rig.request('POST', '/api/meters/porch/power/', { token, body: { timestamp: newest + 1000, values: { power: 2001 } } });
      await all.until('all four readings', () => all.of('reading', 'porch').length === 4);
      await liveOnly.until('the two live readings', () => liveOnly.of('reading', 'porch').length === 2);
      expect(all.of('reading', 'porch').map((r) => r['replay'] ?? false)).to.deep.equal([false, true, true, false]);
      expect(liveOnly.of('reading', 'porch').map((r) => r['values']['power'])).to.deep.equal([2000, 2001]);
      const latest = await rig.request('GET', '/api/meters/porch/power/latest/', { token });
      expect(latest.body.values).to.deep.equal({ power: 2001 });
      const history = await rig.request('GET', `/api/meters/porch/power/history/?from=${new Date(old - 1).toISOString()}&to=${new Date(old + 2000).toISOString()}&resolution=raw`, { token });
      expect(history.body.results.map((p: { values: { power: number } }) => p.values.power)).to.deep.equal([5, 6]);
    });

    it('a disabled meter an older uplink made on a placeholder bus becomes a pushed meter when a collector forwards its readings', async () => {
      const old = await rig.request('POST', '/api/meters/', { token, body: { id: 'shed', driver: 'sdm230', bus: 'sim', unitId: 7, enabled: false } });
      expect(old.body.status.state).to.equal('disabled');
      const posted = await rig.request('POST', '/api/meters/shed/power/', { token, headers: { 'x-meterhub-source': 'uplink' }, body: { timestamp: Date.now(), values: { power: 3 } } });
      expect(posted.status).to.equal(201);
      await rig.waitFor('the meter migrated', async () => (await rig.request('GET', '/api/meters/shed/', { token })).body.bus === undefined);
      const now = await rig.request('GET', '/api/meters/shed/', { token });
      expect(now.body).to.include({ driver: 'sdm230', enabled: true });
      await rig.request('POST', '/api/meters/shed/power/', { token, headers: { 'x-meterhub-source': 'uplink' }, body: { timestamp: Date.now(), values: { power: 4 } } });
      await rig.waitFor('online', async () => (await rig.request('GET', '/api/meters/shed/', { token })).body.status.state === 'online');
    });
  });
}

describe('pushed meters on a host without buses', function () {
  this.timeout(30000);
  let rig: RestRig;
  let token: string;

  before(async () => {
    rig = await RestRig.start('sqlite', { buses: [], meters: [{ id: 'shed', name: 'Shed', expectedIntervalMs: 60000 }], pushedMeters: { staleAfterMs: 600 } });
    token = (await rig.login()).access;
  });
  after(() => rig.stop());

  it('a meter made from {"name": "Garage"} goes online with its readings, stale when they stop, online when they resume', async () => {
    const created = await rig.request('POST', '/api/meters/', { token, body: { name: 'Garage' } });
    expect(created.status).to.equal(201);
    expect(created.body).to.include({ id: 'garage', name: 'Garage', enabled: true });
    expect(created.body).to.not.have.property('bus');
    expect(created.body.status.state).to.equal('unknown');
    const again = await rig.request('POST', '/api/meters/', { token, body: { name: 'Garage' } });
    expect(again.body.id).to.equal('garage-2');

    const sio = new SioClient(rig.base, { token });
    try {
      await sio.connected();
      await sio.subscribe({ meters: ['garage'] });
      const states = () => sio.of('meter-state', 'garage').map((m) => m['state']);
      const push = (power: number) => rig.request('POST', '/api/meters/garage/power/', { token, body: { timestamp: Date.now(), values: { power } } });

      expect((await push(10)).status).to.equal(201);
      await sio.until('online', () => states().at(-1) === 'online');
      const online = await rig.request('GET', '/api/meters/garage/', { token });
      expect(online.body.status).to.include({ state: 'online', online: true });
      expect(Date.now() - Date.parse(online.body.status.lastSeen)).to.be.below(5000);

      await sio.until('stale after the silence', () => states().at(-1) === 'stale', 5000);
      const stale = await rig.request('GET', '/api/meters/garage/', { token });
      expect(stale.body.status.state).to.equal('stale');
      expect(stale.body.status.lastSeen).to.equal(online.body.status.lastSeen);

      await push(11);
      await sio.until('online again', () => states().at(-1) === 'online');
      expect(states()).to.deep.equal(['online', 'stale', 'online']);
      expect(sio.of('meter-state', 'garage').at(-1)!['lastSeen']).to.be.a('string');
      const status = rig.host.status();
      expect(status.meterStates.find((m) => m.meterId === 'garage')).to.include({ state: 'online' });
      expect(status.eventLoop).to.have.keys('p50Ms', 'p99Ms', 'maxMs', 'windowSeconds', 'worstMs', 'worstAt');
      const printed = formatStatus(status);
      expect(printed).to.match(/garage\s+online\s+pushed, last reading \d+ s ago/);
      expect(printed).to.match(/event loop delay: p50 [\d.]+ ms, p99 [\d.]+ ms/);
      // The details of /health/ need read access.
      const health = await rig.request('GET', '/health/', { token });
      expect(health.body.eventLoop).to.include.keys('p99Ms', 'maxMs');
      expect(health.body.meters.find((m: { id: string }) => m.id === 'garage')).to.include({ state: 'online' });
    } finally {
      sio.close();
    }
  });

  it('a pushed meter declared in the config file is listed, read-only, and waits for its first reading', async () => {
    const shed = await rig.request('GET', '/api/meters/shed/', { token });
    expect(shed.body).to.include({ id: 'shed', name: 'Shed', source: 'config', expectedIntervalMs: 60000 });
    expect(shed.body.status).to.include({ state: 'unknown', lastSeen: null });
    expect((await rig.request('PATCH', '/api/meters/shed/', { token, body: { name: 'x' } })).status).to.equal(409);
  });

  it('a polled meter still needs a bus, a driver and a unit id; a pushed one refuses a bus', async () => {
    const polled = await rig.request('POST', '/api/meters/', { token, body: { id: 'x', source: 'poll' } });
    expect(polled.status).to.equal(400);
    const noBus = await rig.request('POST', '/api/meters/', { token, body: { id: 'y', bus: 'remote', driver: 'sdm230', unitId: 1 } });
    expect(noBus.status).to.equal(400);
    expect(JSON.stringify(noBus.body)).to.include('no bus');
    const bad = await rig.request('POST', '/api/meters/garage/power/', { token, body: { timestamp: Date.now(), values: { notAMeasurement: 1 } } });
    expect(bad.status).to.equal(400);
    expect(JSON.stringify(bad.body)).to.include('notAMeasurement');
  });
});
