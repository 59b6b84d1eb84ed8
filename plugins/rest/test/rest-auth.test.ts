import { expect } from 'chai';
import jwt from 'jsonwebtoken';
import { ADMIN, RestRig, VIEWER } from './rest-rig.js';

describe('REST API: authentication and authorization', function () {
  this.timeout(30000);
  let rig: RestRig;
  before(async () => {
    rig = await RestRig.start('sqlite', { plugins: { rest: { config: { login: { maxPerMinute: 1000, freeFailures: 3 } } } } });
  });
  after(() => rig.stop());

  it('issues an access and a refresh token for good credentials, 401 for bad ones', async () => {
    const ok = await rig.request('POST', '/api/token/', { body: ADMIN });
    expect(ok.status).to.equal(200);
    expect(ok.body).to.have.keys(['access', 'refresh']);
    const claims = jwt.decode(ok.body.access, { complete: true })!;
    expect(claims.header.alg).to.equal('HS256');
    expect(claims.payload).to.include({ iss: 'meterhub', typ: 'access', role: 'admin' });
    const bad = await rig.request('POST', '/api/token/', { body: { username: 'ada', password: 'wrong-password' } });
    expect(bad.status).to.equal(401);
    expect(bad.body.error.code).to.equal('METERHUB_ERR_UNAUTHORIZED');
    const missing = await rig.request('POST', '/api/token/', { body: { username: 'ada' } });
    expect(missing.status).to.equal(400);
    expect(missing.body.error.details).to.deep.include({ path: '/password', message: 'is required' });
  });

  it('refreshes access tokens; a refresh token is not an access token and the reverse', async () => {
    const { access, refresh } = await rig.login();
    const fresh = await rig.request('POST', '/api/token/refresh/', { body: { refresh } });
    expect(fresh.status).to.equal(200);
    expect((await rig.request('GET', '/api/meters/', { token: fresh.body.access })).status).to.equal(200);
    expect((await rig.request('GET', '/api/meters/', { token: refresh })).status).to.equal(401);
    expect((await rig.request('POST', '/api/token/refresh/', { body: { refresh: access } })).status).to.equal(401);
  });

  it('refuses missing, forged, alg:none, foreign-key and expired tokens with 401', async () => {
    const none = jwt.sign({ typ: 'access', ver: 0, role: 'admin' }, '', { algorithm: 'none', subject: '1', issuer: 'meterhub' });
    const foreign = jwt.sign({ typ: 'access', ver: 0, role: 'admin' }, 'another-secret-key-entirely', { algorithm: 'HS256', subject: '1', issuer: 'meterhub' });
    const expired = jwt.sign({ typ: 'access', ver: 0, role: 'admin', exp: Math.floor(Date.now() / 1000) - 10 }, rig.signingKey(), { algorithm: 'HS256', subject: '1', issuer: 'meterhub' });
    const otherIssuer = jwt.sign({ typ: 'access', ver: 0, role: 'admin' }, rig.signingKey(), { algorithm: 'HS256', subject: '1', issuer: 'someone-else' });
    const hs512 = jwt.sign({ typ: 'access', ver: 0, role: 'admin' }, rig.signingKey(), { algorithm: 'HS512', subject: '1', issuer: 'meterhub' });
    const noAuth = await rig.request('GET', '/api/meters/');
    expect(noAuth.status).to.equal(401);
    expect(noAuth.headers.get('www-authenticate')).to.include('Bearer');
    for (const token of [none, foreign, otherIssuer, hs512, 'not.a.token']) {
      expect((await rig.request('GET', '/api/meters/', { token })).status, token.slice(0, 20)).to.equal(401);
    }
    const exp = await rig.request('GET', '/api/meters/', { token: expired });
    expect(exp.status).to.equal(401);
    expect(exp.body.error.message).to.include('expired');
  });

  it('logout revokes the refresh token and the user\'s other tokens; a password change too', async () => {
    const { access, refresh } = await rig.login(VIEWER);
    expect((await rig.request('POST', '/api/token/revoke/', { body: { refresh } })).status).to.equal(204);
    expect((await rig.request('POST', '/api/token/refresh/', { body: { refresh } })).status).to.equal(401);
    expect((await rig.request('GET', '/api/meters/', { token: access })).status).to.equal(401);
    const again = await rig.login(VIEWER);
    const admin = await rig.login();
    const vic = await rig.host.accounts!.users.byUsername(VIEWER.username);
    expect((await rig.request('PATCH', `/api/users/${vic!.id}/`, { token: admin.access, body: { password: 'another-password-2' } })).status).to.equal(200);
    expect((await rig.request('GET', '/api/meters/', { token: again.access })).status).to.equal(401);
    await rig.host.accounts!.users.setPassword(vic!.id, VIEWER.password);
  });

  it('roles: a viewer reads but cannot write or manage users (403)', async () => {
    const { access } = await rig.login(VIEWER);
    expect((await rig.request('GET', '/api/meters/house/', { token: access })).status).to.equal(200);
    const create = await rig.request('POST', '/api/meters/', { token: access, body: { id: 'x', driver: 'sdm230', bus: 'sim', unitId: 2 } });
    expect(create.status).to.equal(403);
    expect(create.body.error.code).to.equal('METERHUB_ERR_FORBIDDEN');
    expect((await rig.request('GET', '/api/users/', { token: access })).status).to.equal(403);
    expect((await rig.request('POST', '/api/meters/house/power/', { token: access, body: { timestamp: 1, values: { power: 1 } } })).status).to.equal(403);
  });

  it('API keys: scopes decide, the key is shown once and stored as a digest, revoked keys stop working', async () => {
    const { access } = await rig.login();
    const created = await rig.request('POST', '/api/keys/', { token: access, body: { name: 'collector', scopes: ['ingest'] } });
    expect(created.status).to.equal(201);
    const key = created.body.key as string;
    expect(key).to.match(/^mh_[A-Za-z0-9_-]{40,}$/);
    const listed = await rig.request('GET', '/api/keys/', { token: access });
    expect(JSON.stringify(listed.body)).to.not.include(key);
    const stored = await rig.host.storage!.knex('api_keys').select('digest');
    expect(JSON.stringify(stored)).to.not.include(key);
    expect((await rig.request('POST', '/api/meters/house/power/', { key, body: { timestamp: Date.UTC(2026, 0, 1), values: { power: 5 } } })).status).to.equal(201);
    expect((await rig.request('GET', '/api/meters/', { key })).status).to.equal(403);
    expect((await rig.request('GET', '/api/meters/', { key: `${key.slice(0, -2)}xx` })).status).to.equal(401);
    const reader = (await rig.request('POST', '/api/keys/', { token: access, body: { name: 'dash', scopes: ['read'] } })).body;
    expect((await rig.request('GET', '/api/meters/', { key: reader.key })).status).to.equal(200);
    expect((await rig.request('DELETE', `/api/keys/${reader.id}/`, { token: access })).status).to.equal(204);
    expect((await rig.request('GET', '/api/meters/', { key: reader.key })).status).to.equal(401);
  });

  it('locks a username out with back-off after repeated failures (429)', async () => {
    for (let i = 0; i < 3; i++) await rig.request('POST', '/api/token/', { body: { username: 'vic', password: 'nope-nope-nope' } });
    const locked = await rig.request('POST', '/api/token/', { body: VIEWER });
    expect(locked.status).to.equal(429);
    expect(locked.body.error.code).to.equal('METERHUB_ERR_RATE_LIMITED');
    // Another account is not affected.
    expect((await rig.request('POST', '/api/token/', { body: ADMIN })).status).to.equal(200);
  });
});
