import { expect } from 'chai';
import { RestRig } from './rest-rig.js';

const t0 = Date.UTC(2026, 6, 1);
const power = (meter: string, n: number, from = t0) => ({
  meter, family: 'power', readings: Array.from({ length: n }, (_, i) => ({ timestamp: from + i * 1000, values: { voltageL1: 230 + (i % 5), power: 100 + i } })),
});
const energy = (meter: string, n: number) => ({
  meter, family: 'energy', readings: Array.from({ length: n }, (_, i) => ({ timestamp: new Date(t0 + i * 1000).toISOString(), values: { importEnergy: 1000 + i } })),
});

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`REST API on ${engine}: POST /api/readings/ (many meters in one request)`, function () {
    this.timeout(40000);
    let rig: RestRig;
    let token: string;
    let ingest: string;
    const count = async (meter: string, family: string) => (await rig.request('GET', `/api/meters/${meter}/${family}/history/?from=${t0}&to=${t0 + 3_600_000}&resolution=raw&limit=10000`, { token })).body.count as number;

    before(async () => {
      rig = await RestRig.start(engine);
      token = (await rig.login()).access;
      for (const id of ['shed', 'barn']) expect((await rig.request('POST', '/api/meters/', { token, body: { id, driver: 'sdm630', source: 'push' } })).status).to.equal(201);
      ingest = (await rig.request('POST', '/api/keys/', { token, body: { name: 'collector', scopes: ['ingest'] } })).body.key;
    });
    after(() => rig.stop());

    it('stores every good group once; an unknown meter and an invalid group are answered each on its own', async () => {
      const body = {
        groups: [
          power('shed', 50),
          { meter: 'ghost', family: 'power', readings: [{ timestamp: t0, values: { power: 1 } }] },
          energy('shed', 20),
          { meter: 'barn', family: 'energy', readings: [{ timestamp: t0, values: { voltageL1: 230 } }, { timestamp: 'soon', values: { importEnergy: 2 } }] },
          { meter: 'barn', family: 'warp', readings: [] },
          power('barn', 30),
        ],
      };
      for (let round = 0; round < 2; round++) {
        const r = await rig.request('POST', '/api/readings/', { key: ingest, body, headers: { 'x-meterhub-source': 'uplink' } });
        expect(r.status).to.equal(207);
        expect(r.body).to.include({ accepted: 100, spooled: 0 });
        expect(r.body.results.map((g: { meter: string; family: string; status: string; count: number }) => [g.meter, g.family, g.status, g.count])).to.deep.equal([
          ['shed', 'power', 'stored', 50], ['ghost', 'power', 'unknown_meter', 1], ['shed', 'energy', 'stored', 20],
          ['barn', 'energy', 'invalid', 2], ['barn', null, 'invalid', 0], ['barn', 'power', 'stored', 30],
        ]);
        expect(r.body.results[3].errors.map((e: { path: string }) => e.path)).to.include.members(['/groups/3/readings/0/values/voltageL1', '/groups/3/readings/1/timestamp']);
        expect(r.body.results[4].errors.map((e: { path: string }) => e.path)).to.include.members(['/groups/4/family', '/groups/4/readings']);
      }
      // Re-sent: idempotent on (meter, timestamp), stored exactly once.
      expect(await count('shed', 'power')).to.equal(50);
      expect(await count('shed', 'energy')).to.equal(20);
      expect(await count('barn', 'power')).to.equal(30);
      expect(await count('barn', 'energy')).to.equal(0);
      expect((await rig.request('GET', '/api/meters/barn/power/latest/', { token })).body.values.power).to.equal(129);
      expect(rig.logs.filter((l) => l.level >= 50)).to.deep.equal([]);
    });

    it('all groups good: 201 with each stored', async () => {
      const r = await rig.request('POST', '/api/readings/', { key: ingest, body: { groups: [power('shed', 5, t0 + 100_000), energy('barn', 3)] } });
      expect(r.status).to.equal(201);
      expect(r.body).to.deep.equal({
        accepted: 8, spooled: 0,
        results: [{ meter: 'shed', family: 'power', status: 'stored', count: 5 }, { meter: 'barn', family: 'energy', status: 'stored', count: 3 }],
      });
    });

    it('a body that is no envelope is a 400 naming the field; too many readings in all is a 400; too large a body 413', async () => {
      const notArray = await rig.request('POST', '/api/readings/', { key: ingest, body: { groups: { meter: 'shed' } } });
      expect(notArray.status).to.equal(400);
      expect(notArray.body.error.details[0]).to.include({ path: '/groups' });
      expect((await rig.request('POST', '/api/readings/', { key: ingest, body: [power('shed', 1)] })).status).to.equal(400);
      expect((await rig.request('POST', '/api/readings/', { key: ingest, raw: '{"groups": [' })).status).to.equal(400);
      const many = { groups: Array.from({ length: 5 }, (_, k) => power('shed', 4100, t0 + k * 5_000_000)) };
      const tooMany = await rig.request('POST', '/api/readings/', { key: ingest, body: many });
      expect(tooMany.status).to.equal(400);
      expect(tooMany.body.error.details[0]).to.include({ path: '/groups' });
      const huge = await rig.request('POST', '/api/readings/', { key: ingest, raw: JSON.stringify({ groups: [{ meter: 'shed', family: 'power', readings: [], pad: 'x'.repeat(6 * 1024 * 1024) }] }) });
      expect(huge.status).to.equal(413);
      expect(rig.logs.filter((l) => l.level >= 50)).to.deep.equal([]);
    });

    it('admission by the ingest scope: 401 without credentials, 403 for a read-only key', async () => {
      const body = { groups: [power('shed', 1, t0 + 200_000)] };
      expect((await rig.request('POST', '/api/readings/', { body })).status).to.equal(401);
      const reader = (await rig.request('POST', '/api/keys/', { token, body: { name: 'dash', scopes: ['read'] } })).body.key;
      expect((await rig.request('POST', '/api/readings/', { key: reader, body })).status).to.equal(403);
      expect(await count('shed', 'power')).to.equal(55);
    });

    it('is described in the OpenAPI document with each group\'s schema', async () => {
      const doc = (await rig.request('GET', '/api/schema/', { token })).body;
      const op = doc.paths['/api/readings/'].post;
      expect(op['x-meterhub-access']).to.equal('ingest');
      expect(op.requestBody.content['application/json'].schema.properties.groups.items.required).to.deep.equal(['meter', 'family', 'readings']);
      expect(Object.keys(op.responses)).to.include.members(['201', '202', '207', '400', '401', '403', '413']);
    });
  });
}
