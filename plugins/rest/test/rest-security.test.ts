import { expect } from 'chai';
import { RestRig } from './rest-rig.js';

const ORIGIN = 'https://dash.example';

describe('REST API: health details, the last admin, one CORS policy on every route', function () {
  this.timeout(60000);
  let rig: RestRig;
  let token: string;
  before(async () => {
    rig = await RestRig.start('sqlite', { http: { port: 0, corsAllowedOrigins: [ORIGIN] } });
    token = (await rig.login()).access;
  });
  after(() => rig.stop());

  it('/health/ tells anyone only the status and reachability; a token or key with read gets the details', async () => {
    const anonymous = await rig.request('GET', '/health/');
    expect(anonymous.status).to.equal(200);
    expect(anonymous.body).to.deep.equal({ status: 'ok', database: { reachable: true } });
    const bad = await rig.request('GET', '/health/', { token: 'not-a-token' });
    expect(bad.body).to.deep.equal({ status: 'ok', database: { reachable: true } });
    const ingestOnly = (await rig.request('POST', '/api/keys/', { token, body: { name: 'logger', scopes: ['ingest'] } })).body.key;
    expect((await rig.request('GET', '/health/', { key: ingestOnly })).body).to.not.have.property('meters');
    const reader = (await rig.request('POST', '/api/keys/', { token, body: { name: 'monitor', scopes: ['read'] } })).body.key;
    for (const auth of [{ token }, { key: reader }]) {
      const h = await rig.request('GET', '/health/', auth);
      expect(h.body).to.include.keys(['status', 'version', 'plugins', 'buses', 'meters', 'database']);
      expect(h.body.meters[0]).to.include({ id: 'house' });
    }
  });

  it('/health/ details stay public when plugins.rest.config.health.publicDetails is set (a trusted LAN)', async () => {
    const lan = await RestRig.start('sqlite', { plugins: { rest: { config: { health: { publicDetails: true } } } } });
    try {
      const h = await lan.request('GET', '/health/');
      expect(h.body.meters.map((m: { id: string }) => m.id)).to.deep.equal(['house']);
      expect(h.body.version).to.be.a('string');
    } finally {
      await lan.stop();
    }
  });

  it('the last admin can neither demote nor delete itself (409); with a second admin it can', async () => {
    const me = (await rig.request('GET', '/api/users/', { token })).body.results.find((u: { username: string }) => u.username === 'ada');
    const demote = await rig.request('PATCH', `/api/users/${me.id}/`, { token, body: { role: 'viewer' } });
    expect(demote.status).to.equal(409);
    expect(demote.body.error.code).to.equal('METERHUB_ERR_CONFLICT');
    expect(demote.body.detail).to.match(/last admin/);
    await expectRejects(rig.host.accounts!.users.delete(me.id), /last admin/);
    expect((await rig.request('GET', '/api/meters/', { token })).status).to.equal(200);
    const second = await rig.request('POST', '/api/users/', { token, body: { username: 'grace', password: 'another-admin-pass', role: 'admin' } });
    const graceToken = (await rig.login({ username: 'grace', password: 'another-admin-pass' })).access;
    expect((await rig.request('PATCH', `/api/users/${me.id}/`, { token: graceToken, body: { role: 'viewer' } })).status).to.equal(200);
    // grace is now the only admin.
    expect((await rig.request('DELETE', `/api/users/${second.body.id}/`, { token: graceToken })).status).to.equal(409);
    expect((await rig.request('PATCH', `/api/users/${second.body.id}/`, { token: graceToken, body: { role: 'viewer' } })).status).to.equal(409);
    expect((await rig.request('PATCH', `/api/users/${me.id}/`, { token: graceToken, body: { role: 'admin' } })).status).to.equal(200);
    token = (await rig.login()).access;
  });

  it('two admins demoting each other at once on PostgreSQL: exactly one succeeds, an admin remains', async () => {
    const pg = await RestRig.start('postgres');
    try {
      const ada = (await pg.login()).access;
      const grace = (await pg.request('POST', '/api/users/', { token: ada, body: { username: 'grace', password: 'another-admin-pass', role: 'admin' } })).body;
      const graceToken = (await pg.login({ username: 'grace', password: 'another-admin-pass' })).access;
      const adaId = (await pg.request('GET', '/api/users/', { token: ada })).body.results.find((u: { username: string }) => u.username === 'ada').id;
      for (let round = 0; round < 3; round++) {
        const [a, b] = await Promise.all([
          pg.request('PATCH', `/api/users/${grace.id}/`, { token: ada, body: { role: 'viewer' } }),
          pg.request('PATCH', `/api/users/${adaId}/`, { token: graceToken, body: { role: 'viewer' } }),
        ]);
        // The loser may also be refused for having lost its own admin role first (403).
        expect([a.status, b.status].filter((s) => s === 200), `${a.status} ${b.status}`).to.have.length(1);
        const admins = (await pg.host.accounts!.users.list()).filter((u) => u.role === 'admin');
        expect(admins).to.have.length(1);
        // Restore both as admins for the next round.
        const remaining = admins[0]!.username === 'ada' ? ada : graceToken;
        for (const id of [adaId, grace.id]) await pg.request('PATCH', `/api/users/${id}/`, { token: remaining, body: { role: 'admin' } });
      }
    } finally {
      await pg.stop();
    }
  });

  it('answers preflights and real requests with the same CORS policy on REST, /api/export/ and the Socket.IO polling handshake', async () => {
    const routes = ['/api/meters/', '/api/export/?meters=house&from=2026-01-01&to=2026-01-02', '/socket.io/?EIO=4&transport=polling', '/health/', '/api/nothing-here/'];
    for (const path of routes) {
      const preflight = await fetch(`${rig.base}${path}`, { method: 'OPTIONS', headers: { origin: ORIGIN, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' } });
      expect(preflight.status, path).to.equal(204);
      expect(preflight.headers.get('access-control-allow-origin'), path).to.equal(ORIGIN);
      expect(preflight.headers.get('access-control-allow-headers'), path).to.match(/Authorization/);
      const real = await fetch(`${rig.base}${path}`, { headers: { origin: ORIGIN, authorization: `Bearer ${token}` } });
      expect(real.status, path).to.be.below(500);
      expect(real.headers.get('access-control-allow-origin'), path).to.equal(ORIGIN);
      expect(real.headers.get('vary'), path).to.match(/Origin/);
      const foreign = await fetch(`${rig.base}${path}`, { headers: { origin: 'https://evil.example', authorization: `Bearer ${token}` } });
      expect(foreign.headers.get('access-control-allow-origin'), path).to.equal(null);
      const foreignPreflight = await fetch(`${rig.base}${path}`, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' } });
      expect(foreignPreflight.headers.get('access-control-allow-origin'), path).to.equal(null);
      expect(foreignPreflight.headers.get('access-control-allow-methods'), path).to.equal(null);
    }
    // The Socket.IO handshake itself succeeds across origins (the client reads the session id).
    const handshake = await fetch(`${rig.base}/socket.io/?EIO=4&transport=polling`, { headers: { origin: ORIGIN } });
    expect(handshake.status).to.equal(200);
    expect(await handshake.text()).to.match(/"sid"/);
  });
});

async function expectRejects(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  try {
    await p;
  } catch (err) {
    expect(String((err as Error).message)).to.match(pattern);
    return;
  }
  throw new Error('expected a rejection');
}
