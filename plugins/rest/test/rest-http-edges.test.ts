import { expect } from 'chai';
import { request } from 'node:http';
import { TcpProxy } from '../../../test-support/tcp-proxy.js';
import { createTestDatabase } from '../../../test-support/postgres.js';
import { ADMIN, RestRig } from './rest-rig.js';

describe('REST API: HTTP behaviour, health, OpenAPI and malformed input', function () {
  this.timeout(120000);
  let rig: RestRig;
  let token: string;
  let key: string;
  before(async () => {
    rig = await RestRig.start('sqlite', {
      http: { port: 0, allowedHosts: ['127.0.0.1', 'meters.local'], corsAllowedOrigins: ['https://dash.example'] },
      plugins: { rest: { config: { bodyLimit: '64kb', login: { maxPerMinute: 100000, freeFailures: 100000 } } } },
    }, { SECRET_KEY: 'a-long-secret-key-for-tests-only' });
    token = (await rig.login()).access;
    key = (await rig.request('POST', '/api/keys/', { token, body: { name: 'fuzz', scopes: ['read', 'ingest', 'meters:write'] } })).body.key;
  });
  after(() => rig.stop());

  it('405 with Allow for a wrong method, 404 for unknown paths, 413 for oversized bodies, 400 for broken JSON', async () => {
    const r405 = await rig.request('DELETE', '/api/token/');
    expect(r405.status).to.equal(405);
    expect(r405.headers.get('allow')).to.equal('POST, OPTIONS');
    expect((await rig.request('GET', '/api/nothing/', { token })).status).to.equal(404);
    const big = await rig.request('POST', '/api/meters/house/power/', { token, raw: JSON.stringify({ timestamp: 1, values: { power: 1 }, pad: 'x'.repeat(100_000) }) });
    expect(big.status).to.equal(413);
    const broken = await rig.request('POST', '/api/token/', { raw: '{"username": "ada", ' });
    expect(broken.status).to.equal(400);
    expect(broken.body.error.details[0].path).to.equal('/');
  });

  it('CORS only for allowed origins; Host header checked against ALLOWED_HOSTS; helmet headers; no stack traces', async () => {
    const allowed = await rig.request('OPTIONS', '/api/meters/', { headers: { origin: 'https://dash.example' } });
    expect(allowed.status).to.equal(204);
    expect(allowed.headers.get('access-control-allow-origin')).to.equal('https://dash.example');
    const denied = await rig.request('GET', '/api/meters/', { token, headers: { origin: 'https://evil.example' } });
    expect(denied.headers.get('access-control-allow-origin')).to.equal(null);
    // fetch() will not send a custom Host header; a plain request does.
    const statusFor = (host: string) => new Promise<number>((resolve, reject) => {
      request({ host: '127.0.0.1', port: rig.host.http.port, path: '/health/', headers: { host } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject).end();
    });
    expect(await statusFor('evil.example')).to.equal(400);
    expect(await statusFor('meters.local:8000')).to.equal(200);
    const ok = await rig.request('GET', '/health/');
    expect(ok.headers.get('x-content-type-options')).to.equal('nosniff');
    expect(JSON.stringify((await rig.request('POST', '/api/meters/', { token, body: [] })).body)).to.not.include('at ');
  });

  it('/health/ reports database, plugins, buses and meters to a reader, and no secrets', async () => {
    const h = await rig.request('GET', '/health/', { token });
    expect(h.status).to.equal(200);
    expect(h.body).to.include({ status: 'ok' });
    expect(h.body.database).to.include({ engine: 'sqlite', reachable: true });
    expect(h.body.plugins.map((p: { id: string }) => p.id)).to.include('rest');
    expect(h.body.meters[0]).to.include({ id: 'house' });
    const text = JSON.stringify(h.body);
    for (const secret of ['a-long-secret-key-for-tests-only', ADMIN.password, 'password', 'secret']) expect(text).to.not.include(secret);
  });

  it('/api/schema/ is an OpenAPI 3.1 document of every endpoint with the validation schemas', async () => {
    const doc = (await rig.request('GET', '/api/schema/')).body;
    expect(doc.openapi).to.equal('3.1.0');
    for (const path of ['/api/token/', '/api/token/refresh/', '/api/token/revoke/', '/api/meters/', '/api/meters/{id}/', '/api/meters/{id}/power/',
      '/api/meters/{id}/energy/', '/api/meters/{id}/power/latest/', '/api/meters/{id}/energy/history/', '/api/meters/{id}/energy/consumption/',
      '/health/', '/api/users/', '/api/users/{id}/', '/api/keys/', '/api/keys/{id}/', '/api/schema/']) {
      expect(doc.paths, path).to.have.property(path);
    }
    expect(doc.paths['/api/token/'].post.requestBody.content['application/json'].schema.required).to.deep.equal(['username', 'password']);
    expect(doc.paths['/api/meters/'].post.requestBody.content['application/json'].schema.properties).to.have.property('unitId');
    expect(doc.paths['/api/meters/{id}/power/history/'].get.parameters.map((p: { name: string }) => p.name)).to.include.members(['id', 'from', 'to', 'resolution', 'cursor']);
    expect(doc.paths['/health/'].get.security).to.deep.equal([]);
  });

  it('/health/ answers 503 while the database is unreachable, and 200 again when it is back', async () => {
    const db = await createTestDatabase('health');
    const proxy = new TcpProxy(5432);
    await proxy.start();
    const pgRig = await RestRig.start('sqlite', { storage: { client: 'postgres', connection: { ...db.connection, port: proxy.port } } });
    try {
      expect((await pgRig.request('GET', '/health/')).status).to.equal(200);
      const { access } = await pgRig.login();
      expect((await pgRig.request('GET', '/health/', { token: access })).body.database).to.include({ engine: 'postgres' });
      await proxy.cut();
      // The user is cached: the details still need (and get) authentication without the database.
      const down = await pgRig.request('GET', '/health/', { token: access });
      expect(down.status).to.equal(503);
      expect(down.body).to.deep.include({ status: 'unavailable' });
      expect(down.body.database).to.include({ engine: 'postgres', reachable: false });
      await proxy.restore();
      await pgRig.waitFor('health back to 200', async () => (await pgRig.request('GET', '/health/')).status === 200, 15000);
    } finally {
      await pgRig.stop();
      await proxy.cut();
      await db.drop();
    }
  });
});
