import { expect } from 'chai';
import { RestRig } from './rest-rig.js';

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`REST API on ${engine}: meters and readings`, function () {
    this.timeout(40000);
    let rig: RestRig;
    let token: string;
    before(async () => {
      rig = await RestRig.start(engine);
      token = (await rig.login()).access;
    });
    after(() => rig.stop());

    it('lists meters with live status; the config meter is being polled', async () => {
      await rig.waitFor('house online', async () => (await rig.request('GET', '/api/meters/house/', { token })).body.status.online === true);
      const list = await rig.request('GET', '/api/meters/', { token });
      expect(list.body).to.include({ count: 1, next: null, previous: null });
      expect(list.body.results[0]).to.deep.include({ id: 'house', driver: 'sdm630', source: 'config', unitId: 1 });
      expect(list.body.results[0].connection).to.deep.include({ transport: 'modbus-tcp', host: '127.0.0.1' });
      const latest = await rig.request('GET', '/api/meters/house/power/latest/', { token });
      expect(latest.body.values.voltageL1).to.equal(231.25);
    });

    it('a meter created over the API is polled within a cycle; PATCH and DELETE apply live', async () => {
      const created = await rig.request('POST', '/api/meters/', { token, body: { id: 'pump', name: 'Heat pump', driver: 'sdm230', bus: 'sim', unitId: 2, intervals: { instantMs: 200, counterMs: 200 } } });
      expect(created.status).to.equal(201);
      expect(created.body).to.deep.include({ id: 'pump', source: 'api' });
      await rig.waitFor('pump polled', async () => (await rig.request('GET', '/api/meters/pump/power/latest/', { token })).status === 200, 5000);
      expect((await rig.request('GET', '/api/meters/pump/power/latest/', { token })).body.values.power).to.equal(640.5);
      const patched = await rig.request('PATCH', '/api/meters/pump/', { token, body: { measurements: ['Active Power'] } });
      expect(patched.body.measurements).to.deep.equal(['power']);
      await rig.waitFor('only power polled', async () => Object.keys((await rig.request('GET', '/api/meters/pump/power/latest/', { token })).body.values).join() === 'power');
      expect((await rig.request('DELETE', '/api/meters/pump/', { token })).status).to.equal(204);
      expect((await rig.request('GET', '/api/meters/pump/', { token })).status).to.equal(404);
      expect(rig.host.status().acquisition.meters.map((m) => m.id)).to.deep.equal(['house']);
    });

    it('config meters are read-only (409 naming the file); bad meters get 400 with the field', async () => {
      const put = await rig.request('PUT', '/api/meters/house/', { token, body: { id: 'house', driver: 'sdm630', bus: 'sim', unitId: 1 } });
      expect(put.status).to.equal(409);
      expect(put.body.error.message).to.include('config file');
      expect((await rig.request('DELETE', '/api/meters/house/', { token })).status).to.equal(409);
      const bad = await rig.request('POST', '/api/meters/', { token, body: { id: 'bad', driver: 'sdm630', bus: 'nowhere', unitId: 300 } });
      expect(bad.status).to.equal(400);
      expect(bad.body.error.details.map((d: { path: string }) => d.path)).to.include('/unitId');
      const clash = await rig.request('POST', '/api/meters/', { token, body: { id: 'twin', driver: 'sdm630', bus: 'sim', unitId: 1 } });
      expect(clash.status).to.equal(400);
      expect(clash.body.error.details[0]).to.include({ path: '/unitId' });
      const dup = await rig.request('POST', '/api/meters/', { token, body: { id: 'house', driver: 'sdm230', bus: 'sim', unitId: 9 } });
      expect(dup.status).to.equal(409);
    });

    it('batch submission is idempotent on (meter, timestamp) and validated against the driver and family', async () => {
      const t0 = Date.UTC(2026, 5, 1);
      const batch = Array.from({ length: 500 }, (_, i) => ({ timestamp: new Date(t0 + i * 1000).toISOString(), values: { voltageL1: 230 + (i % 3), power: i } }));
      for (let round = 0; round < 2; round++) {
        const r = await rig.request('POST', '/api/meters/house/power/', { token, body: batch });
        expect(r.status).to.equal(201);
        expect(r.body).to.deep.equal({ accepted: 500, spooled: 0 });
      }
      const raw = await rig.request('GET', `/api/meters/house/power/history/?from=${t0}&to=${t0 + 500_000}&resolution=raw&limit=10000`, { token });
      expect(raw.body.count).to.equal(500);
      expect(raw.body.results[499]).to.deep.include({ timestamp: new Date(t0 + 499_000).toISOString() });
      const wrong = await rig.request('POST', '/api/meters/house/power/', { token, body: [{ timestamp: 'yesterday', values: { importEnergy: 5, warp: 9 } }] });
      expect(wrong.status).to.equal(400);
      expect(wrong.body.error.details.map((d: { path: string }) => d.path)).to.include.members(['/0/timestamp', '/0/values/importEnergy', '/0/values/warp']);
      const energy = await rig.request('POST', '/api/meters/house/energy/', { token, body: { timestamp: t0, values: { 'Import Active Energy': 12.5 } } });
      expect(energy.status).to.equal(201);
      expect((await rig.request('GET', '/api/meters/house/energy/latest/', { token })).body.values).to.have.property('importEnergy');
    });

    it('pages history by cursor', async () => {
      const t0 = Date.UTC(2026, 5, 1);
      const first = await rig.request('GET', `/api/meters/house/power/history/?from=${t0}&to=${t0 + 500_000}&resolution=raw&limit=200&measurements=power`, { token });
      expect(first.body).to.deep.include({ count: 500, pageCount: 200, previous: null });
      expect(first.body.next).to.match(/^http:\/\/127\.0\.0\.1:\d+\/api\/meters\/house\/power\/history\/\?/);
      const second = await rig.request('GET', first.body.next.replace(/^.*?\/api/, '/api'), { token });
      expect(second.body.results[0].values.power).to.equal(200);
      expect(second.body).to.deep.include({ count: 500, pageCount: 200 });
      expect(second.body.previous).to.be.a('string');
      const third = await rig.request('GET', second.body.next.replace(/^.*?\/api/, '/api'), { token });
      expect(third.body).to.deep.include({ pageCount: 100, next: null });
      expect(Object.keys(second.body.results[0].values)).to.deep.equal(['power']);
    });

    it('consumption per local day across a DST change', async () => {
      // 2026-10-25: Europe/Berlin falls back, the day has 25 hours; 1 kWh per hour.
      // A meter of its own (unit 9 is not on the bus): its only history is what is submitted here.
      expect((await rig.request('POST', '/api/meters/', { token, body: { id: 'remote', driver: 'sdm630', bus: 'sim', unitId: 9, enabled: false } })).status).to.equal(201);
      const start = Date.parse('2026-10-24T22:00:00Z');
      const batch = Array.from({ length: 27 }, (_, h) => ({ timestamp: start + h * 3_600_000, values: { importEnergy: 500 + h } }));
      expect((await rig.request('POST', '/api/meters/remote/energy/', { token, body: batch })).status).to.equal(201);
      const r = await rig.request('GET', `/api/meters/remote/energy/consumption/?period=day&tz=Europe/Berlin&from=${start}&to=${start + 27 * 3_600_000}&measurements=importEnergy`, { token });
      expect(r.status).to.equal(200);
      expect(r.body.results[0]).to.deep.include({ start: '2026-10-25T00:00:00+02:00', end: '2026-10-26T00:00:00+01:00' });
      expect(r.body.results[0].values.importEnergy).to.equal(24); // 25 readings in the day, the first has no predecessor
      const badTz = await rig.request('GET', '/api/meters/remote/energy/consumption/?period=day&tz=Mars/Olympus', { token });
      expect(badTz.status).to.equal(400);
      expect(badTz.body.error.details[0].path).to.equal('?tz');
    });
  });
}
