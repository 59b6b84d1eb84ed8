import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { RestRig } from '../../rest/test/rest-rig.js';

/** The plugin's HTTP side: what it serves at `/`, how it is cached and compressed, and what it leaves alone. */
describe('dashboard: assets at /', function () {
  this.timeout(20000);
  let rig: RestRig;
  before(async () => {
    rig = await RestRig.start('sqlite');
  });
  after(() => rig.stop());

  it('serves index.html uncached with a CSP, and hashed assets for a year, brotli or gzip as accepted', async () => {
    const page = await fetch(`${rig.base}/`, { headers: { 'accept-encoding': 'br' } });
    expect(page.status).to.equal(200);
    expect(page.headers.get('content-type')).to.match(/^text\/html/);
    expect(page.headers.get('cache-control')).to.equal('no-cache');
    const csp = page.headers.get('content-security-policy')!;
    expect(csp).to.include("script-src 'self'");
    expect(csp).to.include(`connect-src 'self' ws://127.0.0.1:${rig.host.http.port} wss://127.0.0.1:${rig.host.http.port}`);
    const html = await page.text();
    // Relative to the page, so the dashboard works under a base path (http.basePath).
    const script = /src="assets\/(app-[A-Z0-9]+\.js)"/.exec(html)?.[1]?.replace(/^/, '/assets/');
    const style = /href="assets\/(app-[A-Z0-9]+\.css)"/.exec(html)?.[1]?.replace(/^/, '/assets/');
    expect(script, html).to.be.a('string');
    expect(style, html).to.be.a('string');
    expect(html).not.to.match(/https?:\/\//, 'no CDN: every asset comes from the host');

    const plain = await fetch(`${rig.base}${script}`, { headers: { 'accept-encoding': 'identity' } });
    const body = Buffer.from(await plain.arrayBuffer());
    expect(plain.headers.get('content-encoding')).to.equal(null);
    expect(plain.headers.get('cache-control')).to.equal('public, max-age=31536000, immutable');
    expect(plain.headers.get('vary')).to.equal('Accept-Encoding');

    // Raw bytes through node:http would need decompression by hand; fetch decodes, so compare lengths via HEAD-less GETs.
    const { request } = await import('node:http');
    const raw = (encoding: string) => new Promise<{ headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
      request(`${rig.base}${script}`, { headers: { 'accept-encoding': encoding } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
      }).on('error', reject).end();
    });
    const br = await raw('gzip, deflate, br');
    expect(br.headers['content-encoding']).to.equal('br');
    expect(brotliDecompressSync(br.body).equals(body)).to.equal(true);
    expect(br.body.length).to.be.below(body.length / 2);
    const gz = await raw('gzip');
    expect(gz.headers['content-encoding']).to.equal('gzip');
    expect(gunzipSync(gz.body).equals(body)).to.equal(true);

    const again = await fetch(`${rig.base}${script}`, { headers: { 'if-none-match': String(plain.headers.get('etag')) } });
    expect(again.status).to.equal(304);
  });

  it('leaves API paths to the API: unknown paths still get the JSON 404, POST / is not the page', async () => {
    const unknown = await rig.request('GET', '/api/nope/');
    expect(unknown.status).to.equal(404);
    expect(unknown.body.error.code).to.equal('METERHUB_ERR_HTTP_NOT_FOUND');
    expect((await rig.request('GET', '/assets/app-NOTAHASH.js')).status).to.equal(404);
    expect((await rig.request('POST', '/', { body: {} })).status).to.equal(404);
    expect((await rig.request('GET', '/api/meters/')).status).to.equal(401);
  });

  it('says when no account exists yet, so the sign-in page can show how to create the first admin', async () => {
    expect((await rig.request('GET', '/dashboard/setup.json')).body).to.deep.equal({ needsFirstAdmin: false, command: 'meterhub user add NAME --role admin' });
    const fresh = await RestRig.start('sqlite');
    try {
      // Straight in the database: the last admin cannot be deleted through the accounts API.
      await fresh.host.storage!.knex('users').del();
      expect((await fresh.request('GET', '/dashboard/setup.json')).body.needsFirstAdmin).to.equal(true);
    } finally {
      await fresh.stop();
    }
  });

  it('the browser code type-checks (strict, DOM types): esbuild only strips the types', async function () {
    this.timeout(60000);
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    const project = fileURLToPath(new URL('../web/tsconfig.json', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, [tsc, '-p', project]).catch((e: { stdout: string }) => ({ stdout: `FAILED\n${e.stdout}` }));
    expect(stdout).to.equal('');
  });

  it('is off with plugins.dashboard.enabled: false', async () => {
    const off = await RestRig.start('sqlite', { plugins: { dashboard: { enabled: false } } });
    try {
      const res = await off.request('GET', '/');
      expect(res.status).to.equal(404);
      expect(res.body.error.code).to.equal('METERHUB_ERR_HTTP_NOT_FOUND');
    } finally {
      await off.stop();
    }
  });
});
