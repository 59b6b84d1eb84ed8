import { request as httpRequest } from 'node:http';
import { expect } from 'chai';
import { NginxProxy } from '../../../test-support/nginx-proxy.js';
import { SioClient, WsClient } from '../../socketio/test/live-clients.js';
import { ADMIN, RestRig } from './rest-rig.js';

// nginx reaches the host from this address (proxy_bind); the trusting host believes only it.
const NGINX_ADDRESS = '127.0.0.9';
const SITE = 'meters.example.test';
const LOGINS_PER_MINUTE = 3;

interface Answer { status: number; headers: Record<string, string | string[] | undefined>; text: string; json: any }

/** One HTTP request from a chosen loopback source address (fetch cannot pick one). */
function send(url: string, opts: { method?: string; from?: string; headers?: Record<string, string>; body?: unknown } = {}): Promise<Answer> {
  const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, {
      method: opts.method ?? 'GET',
      ...(opts.from ? { localAddress: opts.from } : {}),
      headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...opts.headers },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode!, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const login = (url: string, from: string, password: string, headers: Record<string, string> = {}) =>
  send(`${url}/api/token/`, { method: 'POST', from, headers: { host: SITE, ...headers }, body: { username: ADMIN.username, password } });

/** Token requests until one is throttled; the statuses in order. */
async function loginsUntil429(url: string, from: string, headers: () => Record<string, string> = () => ({})): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < LOGINS_PER_MINUTE + 2 && !statuses.includes(429); i++) statuses.push((await login(url, from, `wrong-${i}`, headers())).status);
  return statuses;
}

const restConfig = { plugins: { rest: { config: { login: { maxPerMinute: LOGINS_PER_MINUTE, freeFailures: 100 } } } } };

describe('behind a reverse proxy (Debian nginx on loopback)', function () {
  this.timeout(60000);

  describe('http.trustProxy names nginx, http.basePath is /meterhub/', () => {
    let rig: RestRig;
    let nginx: NginxProxy;
    let proxied: string;
    const closers: Array<() => void> = [];

    before(async () => {
      rig = await RestRig.start('sqlite', {
        http: { port: 0, basePath: '/meterhub/', trustProxy: [NGINX_ADDRESS], allowedHosts: [SITE, '127.0.0.1'] },
        ...restConfig,
      });
      nginx = await NginxProxy.start({ upstreamPort: rig.host.http.port, location: '/meterhub/', bindAddress: NGINX_ADDRESS, forwardedProto: 'https' });
      proxied = `${nginx.origin}/meterhub`;
    });
    after(async () => {
      for (const close of closers) close();
      await nginx?.stop();
      await rig?.stop();
    });

    it('REST answers through nginx under /meterhub/, with next/previous links at the forwarded scheme and host', async () => {
      const ok = await login(proxied, '127.0.0.5', ADMIN.password);
      expect(ok.status, ok.text).to.equal(200);
      const token = ok.json.access as string;
      await rig.host.meters!.create({ id: 'flat', name: 'Flat' });
      const first = await send(`${proxied}/api/meters/?limit=1`, { headers: { host: SITE, authorization: `Bearer ${token}` } });
      expect(first.status, first.text).to.equal(200);
      expect(first.json.count).to.equal(2);
      expect(first.json.next).to.equal(`https://${SITE}/meterhub/api/meters/?limit=1&offset=1`);
      const second = await send(first.json.next.replace(`https://${SITE}`, nginx.origin), { headers: { host: SITE, authorization: `Bearer ${token}` } });
      expect(second.json.previous).to.equal(`https://${SITE}/meterhub/api/meters/?limit=1`);
      expect(second.json.results[0].id).to.not.equal(first.json.results[0].id);
      // The request really went through nginx.
      expect(nginx.accessLog()).to.include('GET /meterhub/api/meters/?limit=1 ');
    });

    it('the OpenAPI document names the server as the client reaches it, and /api/docs/ loads it relatively', async () => {
      const schema = await send(`${proxied}/api/schema/`, { headers: { host: SITE } });
      expect(schema.status).to.equal(200);
      expect(schema.json.servers).to.deep.equal([{ url: `https://${SITE}/meterhub` }]);
      expect(schema.json.paths).to.have.property('/api/meters/');
      const docs = await send(`${proxied}/api/docs/init.js`, { headers: { host: SITE } });
      expect(docs.text).to.include("url: '../schema/'");
    });

    it('throttles logins per real client behind nginx: one address locked out, the other not', async () => {
      const first = await loginsUntil429(proxied, '127.0.0.2');
      expect(first).to.deep.equal([...Array(LOGINS_PER_MINUTE).fill(401), 429]);
      expect((await login(proxied, '127.0.0.3', 'wrong')).status).to.equal(401);
      expect((await login(proxied, '127.0.0.3', ADMIN.password)).status).to.equal(200);
      expect((await login(proxied, '127.0.0.2', ADMIN.password)).status).to.equal(429);
    });

    it('a direct client forging X-Forwarded-For is throttled by its real address', async () => {
      let n = 0;
      const forged = () => ({ 'x-forwarded-for': `198.51.100.${++n}`, 'x-forwarded-proto': 'https' });
      const statuses = await loginsUntil429(rig.base, '127.0.0.4', forged);
      expect(statuses).to.deep.equal([...Array(LOGINS_PER_MINUTE).fill(401), 429]);
      // Its forged headers do not make its links https either.
      const schema = await send(`${rig.base}/api/schema/`, { from: '127.0.0.4', headers: { host: SITE, 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example' } });
      expect(schema.json.servers).to.deep.equal([{ url: `http://${SITE}/meterhub` }]);
    });

    it('ALLOWED_HOSTS checks the host the client asked nginx for', async () => {
      const refused = await send(`${proxied}/api/schema/`, { headers: { host: 'evil.example' } });
      expect(refused.status).to.equal(400);
      expect(refused.json.error.code).to.equal('METERHUB_ERR_HTTP_BAD_HOST');
    });

    it('Socket.IO at /meterhub/socket.io through nginx delivers live readings', async () => {
      const token = (await rig.login()).access;
      const c = new SioClient(nginx.origin, { token }, { path: '/meterhub/socket.io', extraHeaders: { host: SITE } });
      closers.push(() => c.socket.close());
      await c.connected();
      await c.subscribe({ meters: ['house'], measurements: ['voltageL1'] });
      await c.until('two readings', () => c.of('reading', 'house').length >= 2);
      expect(c.of('reading', 'house')[0]!['values']['voltageL1']).to.be.closeTo(231.25, 0.001);
      const polling = new SioClient(nginx.origin, { token }, { path: '/meterhub/socket.io', transports: ['polling'] });
      closers.push(() => polling.socket.close());
      await polling.connected();
      await polling.subscribe({ meters: ['house'] });
      await polling.until('a reading over long-polling', () => polling.of('reading', 'house').length >= 1);
    });

    it('the plain WebSocket at /meterhub/ws/meters/ through nginx delivers live readings', async () => {
      const token = (await rig.login()).access;
      const ws = new WsClient(`ws://127.0.0.1:${nginx.port}/meterhub/ws/meters/?token=${token}`);
      closers.push(() => ws.close());
      await ws.open();
      ws.send({ type: 'subscribe', meters: ['house'] });
      await ws.until('a reading', () => ws.of('reading', 'house').length >= 1);
    });

    it('the dashboard loads at /meterhub/: its assets resolve under the base path', async () => {
      const page = await send(`${proxied}/`, { headers: { host: SITE } });
      expect(page.status).to.equal(200);
      expect(page.headers['content-security-policy']).to.include(`wss://${SITE}`);
      const refs = [...page.text.matchAll(/(?:href|src)="([^"]+)"/g)].map((m) => m[1]!).filter((r) => !r.startsWith('data:'));
      expect(refs).to.have.length(2);
      for (const ref of refs) {
        const url = new URL(ref, `https://${SITE}/meterhub/`);
        expect(url.pathname).to.match(/^\/meterhub\/assets\//);
        const asset = await send(`${nginx.origin}${url.pathname}`, { headers: { host: SITE } });
        expect(asset.status, url.pathname).to.equal(200);
        expect(asset.text.length).to.be.greaterThan(100);
      }
      const setup = await send(`${proxied}/dashboard/setup.json`, { headers: { host: SITE } });
      expect(setup.json).to.deep.include({ needsFirstAdmin: false });
    });

    it('/meterhub redirects to /meterhub/; paths outside the base path are 404', async () => {
      const bare = await send(`${rig.base}?x=1`, { headers: { host: SITE } });
      expect(bare.status).to.equal(308);
      expect(bare.headers.location).to.equal('/meterhub/?x=1');
      for (const path of ['/api/meters/', '/', '/socket.io/?EIO=4&transport=polling', '/meterhubx/api/schema/']) {
        const outside = await send(`http://127.0.0.1:${rig.host.http.port}${path}`, { headers: { host: SITE } });
        expect(outside.status, path).to.equal(404);
        expect(outside.json.error.code).to.equal('METERHUB_ERR_HTTP_NOT_FOUND');
      }
      const ws = new WsClient(`ws://127.0.0.1:${rig.host.http.port}/ws/meters/`);
      closers.push(() => ws.close());
      await ws.until('refusal', () => ws.closed !== undefined);
      expect(ws.status).to.equal(404);
    });
  });

  describe('http.trustProxy off (the default)', () => {
    let rig: RestRig;
    let nginx: NginxProxy;

    before(async () => {
      rig = await RestRig.start('sqlite', { http: { port: 0, basePath: '/meterhub' }, ...restConfig });
      nginx = await NginxProxy.start({ upstreamPort: rig.host.http.port, location: '/meterhub/', bindAddress: NGINX_ADDRESS, forwardedProto: 'https' });
    });
    after(async () => {
      await nginx?.stop();
      await rig?.stop();
    });

    it('ignores X-Forwarded-*: every client behind nginx is nginx, links use the Host nginx sent', async () => {
      const proxied = `${nginx.origin}/meterhub`;
      expect(await loginsUntil429(proxied, '127.0.0.2')).to.deep.equal([...Array(LOGINS_PER_MINUTE).fill(401), 429]);
      // Another client shares nginx's budget: the reason to set trustProxy.
      expect((await login(proxied, '127.0.0.3', ADMIN.password)).status).to.equal(429);
      const schema = await send(`${proxied}/api/schema/`, { headers: { host: SITE } });
      expect(schema.json.servers).to.deep.equal([{ url: `http://127.0.0.1:${rig.host.http.port}/meterhub` }]);
    });
  });
});
