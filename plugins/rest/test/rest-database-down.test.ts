import { expect } from 'chai';
import { TcpProxy } from '../../../test-support/tcp-proxy.js';
import { createTestDatabase, type TestDatabase } from '../../../test-support/postgres.js';
import { ADMIN, RestRig } from './rest-rig.js';

describe('REST API with PostgreSQL unreachable (a cut TCP proxy in front of it)', function () {
  this.timeout(90000);
  let db: TestDatabase;
  let proxy: TcpProxy;
  let rig: RestRig;
  before(async () => {
    db = await createTestDatabase('dbdown');
    proxy = new TcpProxy(5432);
    await proxy.start();
    rig = await RestRig.start('sqlite', {
      storage: { client: 'postgres', connection: { ...db.connection, port: proxy.port } },
      meters: [{ id: 'house', driver: 'sdm630', bus: 'sim', unitId: 1, enabled: false }],
    });
  });
  after(async () => {
    await rig.stop();
    await proxy.cut();
    await db.drop();
  });

  it('authenticates cached users and keys, answers reads 503 with Retry-After, spools submissions with 202, and stores them once the database is back', async () => {
    // Seen once while the database was up: the user (login and token) and the key.
    const { access } = await rig.login();
    const key = (await rig.request('POST', '/api/keys/', { token: access, body: { name: 'logger', scopes: ['read', 'ingest'] } })).body.key as string;
    expect((await rig.request('GET', '/api/meters/', { key })).status).to.equal(200);
    const since = rig.logs.length;

    await proxy.cut();
    // Past the cache's freshness window, so every lookup has to try the database.
    await new Promise((r) => setTimeout(r, 5200));

    const relogin = await rig.request('POST', '/api/token/', { body: ADMIN });
    expect(relogin.status, JSON.stringify(relogin.body)).to.equal(200);
    const stranger = await rig.request('POST', '/api/token/', { body: { username: 'nobody', password: 'whatever-password' } });
    expect(stranger.status).to.equal(503);
    expect(stranger.headers.get('retry-after')).to.match(/^\d+$/);

    const history = await rig.request('GET', `/api/meters/house/power/history/?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z`, { token: relogin.body.access });
    expect(history.status, JSON.stringify(history.body)).to.equal(503);
    expect(history.body.error.code).to.equal('METERHUB_ERR_DATABASE_UNAVAILABLE');
    expect(Number(history.headers.get('retry-after'))).to.be.greaterThan(0);
    const viaKey = await rig.request('GET', `/api/meters/house/energy/consumption/?period=day&from=2026-01-01&to=2026-01-03`, { key });
    expect(viaKey.status, JSON.stringify(viaKey.body)).to.equal(503);

    const exported = await fetch(`${rig.base}/api/export/?meters=house&from=2026-01-01&to=2026-01-02`, { headers: { 'x-api-key': key } });
    expect(exported.status).to.equal(503);
    expect(exported.headers.get('retry-after')).to.match(/^\d+$/);
    expect(((await exported.json()) as { error: { code: string } }).error.code).to.equal('METERHUB_ERR_DATABASE_UNAVAILABLE');

    const ts = Date.UTC(2026, 1, 1, 12);
    const submitted = await rig.request('POST', '/api/meters/house/power/', { key, body: [{ timestamp: ts, values: { voltageL1: 229.5 } }, { timestamp: ts + 1000, values: { voltageL1: 229.75 } }] });
    expect(submitted.status, JSON.stringify(submitted.body)).to.equal(202);
    expect(submitted.body).to.deep.equal({ accepted: 2, spooled: 2 });
    expect(rig.errorLogs(since).map((l) => l.msg)).to.deep.equal([]);

    await proxy.restore();
    await rig.waitFor('the spooled readings in the database', async () => {
      const r = await rig.request('GET', `/api/meters/house/power/history/?from=${ts - 1}&to=${ts + 2000}&resolution=raw`, { key });
      return r.status === 200 && r.body.results.length === 2;
    }, 30000);
    const stored = await rig.request('GET', `/api/meters/house/power/history/?from=${ts - 1}&to=${ts + 2000}&resolution=raw`, { key });
    expect(stored.body.results.map((p: { values: { voltageL1: number } }) => p.values.voltageL1)).to.deep.equal([229.5, 229.75]);
  });
});
