import { expect } from 'chai';
import { request } from 'node:http';
import jwt from 'jsonwebtoken';
import { ADMIN, RestRig } from './rest-rig.js';

/** A raw request, so a header or path fetch() would clean up is sent as written. */
function raw(port: number, opts: { method?: string; path: string; headers?: Record<string, string>; body?: string }) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: any }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: opts.method ?? 'GET', path: opts.path, headers: opts.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch { /* not JSON */ }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
      });
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

describe('REST API: one error answer (meterhub + DRF + simplejwt shapes) and hostile input', function () {
  this.timeout(60000);
  let rig: RestRig;
  let token: string;
  before(async () => {
    rig = await RestRig.start('sqlite', {
      http: { port: 0, allowedHosts: ['127.0.0.1', 'meters.local:8443'] },
      plugins: { rest: { config: { login: { maxPerMinute: 100000, freeFailures: 100000 } } } },
    });
    token = (await rig.login()).access;
  });
  after(() => rig.stop());

  it('field errors keep the error object and add DRF\'s {"<field>": ["message"]}', async () => {
    const r = await rig.request('POST', '/api/token/', { body: { username: 'ada' } });
    expect(r.status).to.equal(400);
    expect(r.body.error.code).to.equal('METERHUB_ERR_VALIDATION');
    expect(r.body.password).to.deep.equal(['is required']);
    expect(r.body).to.not.have.property('detail');
  });

  it('non-field errors carry DRF\'s detail; a bad token simplejwt\'s token_not_valid, and every 401 WWW-Authenticate: Bearer realm="api"', async () => {
    const missing = await rig.request('GET', '/api/meters/');
    expect(missing.status).to.equal(401);
    expect(missing.body.detail).to.be.a('string');
    expect(missing.body.error.code).to.equal('METERHUB_ERR_UNAUTHORIZED');
    expect(missing.headers.get('www-authenticate')).to.equal('Bearer realm="api"');
    expect(missing.body).to.not.have.property('code');

    const expired = jwt.sign({ typ: 'access', ver: 0, role: 'admin', exp: Math.floor(Date.now() / 1000) - 10 }, rig.signingKey(), { algorithm: 'HS256', subject: '1', issuer: 'meterhub' });
    for (const bad of [expired, 'not.a.token', `${token}x`]) {
      const r = await rig.request('GET', '/api/meters/', { token: bad });
      expect(r.status).to.equal(401);
      expect(r.body).to.include({ code: 'token_not_valid' });
      expect(r.body.detail).to.be.a('string');
      expect(r.headers.get('www-authenticate')).to.equal('Bearer realm="api"');
    }
    const refresh = await rig.request('POST', '/api/token/refresh/', { body: { refresh: 'garbage' } });
    expect(refresh.status).to.equal(401);
    expect(refresh.body.code).to.equal('token_not_valid');

    const notFound = await rig.request('GET', '/api/meters/nope/', { token });
    expect(notFound.status).to.equal(404);
    expect(notFound.body.detail).to.equal(notFound.body.error.message);
    const wrongMethod = await rig.request('DELETE', '/api/token/');
    expect(wrongMethod.status).to.equal(405);
    expect(wrongMethod.body.error.code).to.equal('METERHUB_ERR_METHOD_NOT_ALLOWED');
  });

  it('a token signed with the real key but without exp is refused', async () => {
    const forever = jwt.sign({ typ: 'access', ver: 0, role: 'admin' }, rig.signingKey(), { algorithm: 'HS256', subject: '1', issuer: 'meterhub' });
    const r = await rig.request('GET', '/api/meters/', { token: forever });
    expect(r.status).to.equal(401);
    expect(r.body.code).to.equal('token_not_valid');
    const refreshForever = jwt.sign({ typ: 'refresh', ver: 0, role: 'admin' }, rig.signingKey(), { algorithm: 'HS256', subject: '1', issuer: 'meterhub' });
    expect((await rig.request('POST', '/api/token/refresh/', { body: { refresh: refreshForever } })).status).to.equal(401);
  });

  it('a bad percent-escape in any path id is a 400 logged at debug, without a login', async () => {
    const since = rig.logs.length;
    for (const path of ['/api/meters/%ZZ/', '/api/meters/%E0%A4%A/power/latest/', '/api/users/%/', '/api/meters/%ZZ/energy/history/?from=1&to=2']) {
      const r = await raw(rig.host.http.port, { path });
      expect(r.status, path).to.equal(400);
      expect(r.body.error.code, path).to.equal('METERHUB_ERR_VALIDATION');
    }
    expect(rig.errorLogs(since)).to.deep.equal([]);
    expect(rig.logs.slice(since).some((l) => l.level === 20 && l.msg === 'request failed')).to.equal(true);
  });

  it('a body that claims gzip, deflate or br but is not compressed is a 400 logged at debug', async () => {
    const since = rig.logs.length;
    for (const encoding of ['gzip', 'deflate', 'br']) {
      for (const auth of [{}, { authorization: `Bearer ${token}` }]) {
        const r = await raw(rig.host.http.port, {
          method: 'POST', path: '/api/meters/house/power/', body: JSON.stringify({ timestamp: 1, values: { voltageL1: 230 } }),
          headers: { 'content-type': 'application/json', 'content-encoding': encoding, ...auth },
        });
        expect(r.status, encoding).to.equal(400);
        expect(r.body.detail, encoding).to.match(/Content-Encoding/);
      }
    }
    const unknown = await raw(rig.host.http.port, { method: 'POST', path: '/api/token/', body: '{}', headers: { 'content-type': 'application/json', 'content-encoding': 'zstd-ish' } });
    expect(unknown.status).to.equal(415);
    expect(rig.errorLogs(since)).to.deep.equal([]);
  });

  it('ALLOWED_HOSTS entries with a port match host:port only', async () => {
    expect((await raw(rig.host.http.port, { path: '/health/', headers: { host: 'meters.local:8443' } })).status).to.equal(200);
    const other = await raw(rig.host.http.port, { path: '/health/', headers: { host: 'meters.local:9999' } });
    expect(other.status).to.equal(400);
    expect(other.body.error.code).to.equal('METERHUB_ERR_HTTP_BAD_HOST');
    expect((await raw(rig.host.http.port, { path: '/health/', headers: { host: '127.0.0.1:1234' } })).status).to.equal(200);
  });

  it('the login answers for wrong credentials stay 401 with detail and the realm', async () => {
    const r = await rig.request('POST', '/api/token/', { body: { ...ADMIN, password: 'wrong-password-here' } });
    expect(r.status).to.equal(401);
    expect(r.body.detail).to.be.a('string');
    expect(r.headers.get('www-authenticate')).to.equal('Bearer realm="api"');
  });
});
