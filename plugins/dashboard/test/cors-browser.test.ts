import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RestRig } from '../../rest/test/rest-rig.js';
import { closeBrowser, newPage } from './browser.js';

/** A blank page on its own port: another origin than the host's. */
async function pageServer(): Promise<{ server: Server; origin: string }> {
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>other origin</title>'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

interface CrossOriginResult { ok: boolean; status?: number; error?: string }

// The browser enforces CORS, not the test: a page on another origin fetches the
// host's API with credentials in a header, the way a separate dashboard does.
describe('CORS from a real browser page on another origin (Debian chromium)', function () {
  this.timeout(60000);
  let allowed: Awaited<ReturnType<typeof pageServer>>;
  let foreign: Awaited<ReturnType<typeof pageServer>>;
  let rig: RestRig;
  let token: string;

  before(async () => {
    allowed = await pageServer();
    foreign = await pageServer();
    rig = await RestRig.start('sqlite', { http: { port: 0, corsAllowedOrigins: [allowed.origin] } });
    token = (await rig.login()).access;
  });
  after(async () => {
    await closeBrowser();
    await rig.stop();
    allowed.server.close();
    foreign.server.close();
  });

  const fetchFrom = async (origin: string, paths: string[]): Promise<CrossOriginResult[]> => {
    const { context, page } = await newPage();
    try {
      await page.goto(`${origin}/`);
      return await page.evaluate(async ({ base, paths, token }) => Promise.all(paths.map(async (path): Promise<CrossOriginResult> => {
        try {
          const res = await fetch(`${base}${path}`, { headers: { Authorization: `Bearer ${token}` } });
          await res.text();
          return { ok: true, status: res.status };
        } catch (err) {
          return { ok: false, error: String(err) };
        }
      })), { base: rig.base, paths, token });
    } finally {
      await context.close();
    }
  };

  const paths = ['/api/meters/', '/api/export/?meters=house&from=2026-01-01&to=2026-01-02', '/socket.io/?EIO=4&transport=polling'];

  it('an allowed origin reads the REST API, the export and the Socket.IO handshake with an Authorization header', async () => {
    const results = await fetchFrom(allowed.origin, paths);
    results.forEach((r, i) => expect(r, paths[i]).to.include({ ok: true }));
    expect(results[0]!.status).to.equal(200);
    expect(results[2]!.status).to.equal(200);
  });

  it('any other origin is refused by the browser on every one of them', async () => {
    const results = await fetchFrom(foreign.origin, paths);
    results.forEach((r, i) => {
      expect(r.ok, paths[i]).to.equal(false);
      expect(r.error, paths[i]).to.match(/Failed to fetch/);
    });
  });
});
