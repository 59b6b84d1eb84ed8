import { expect } from 'chai';
import { NginxProxy } from '../../../test-support/nginx-proxy.js';
import { ADMIN, RestRig } from '../../rest/test/rest-rig.js';
import { closeBrowser, newPage, screenshot, signIn } from './browser.js';

describe('dashboard under a base path behind nginx, in a real browser (Debian chromium)', function () {
  this.timeout(60000);
  let rig: RestRig;
  let nginx: NginxProxy;

  before(async () => {
    rig = await RestRig.start('sqlite', { http: { port: 0, basePath: '/meterhub/', trustProxy: ['127.0.0.1'] } });
    nginx = await NginxProxy.start({ upstreamPort: rig.host.http.port, location: '/meterhub/', bindAddress: '127.0.0.1', forwardedProto: '$scheme' });
  });
  after(async () => {
    await closeBrowser();
    await nginx?.stop();
    await rig?.stop();
  });

  it('signs in at /meterhub/, follows live values over /meterhub/socket.io and shows the status page', async () => {
    const { context, page } = await newPage();
    try {
      const requested: string[] = [];
      page.on('request', (r) => requested.push(new URL(r.url()).pathname));
      // WebSockets are not requests to Playwright.
      page.on('websocket', (ws) => requested.push(new URL(ws.url()).pathname));
      await signIn(page, `${nginx.origin}/meterhub`, ADMIN);
      await page.locator('[data-meter=house][data-state=online]').waitFor();
      rig.sim.unit(1).pin('power', 2468.5);
      await page.locator('[data-meter=house] [data-testid=power][data-value="2468.5"]').waitFor({ timeout: 5000 });
      await page.goto(`${nginx.origin}/meterhub/#/status`);
      // /health/ and /api/status/ loaded: the page leaves its busy state without an error.
      await page.locator('main#main:not([aria-busy=true]) h1').waitFor();
      expect(await page.locator('main .error').count()).to.equal(0);
      await screenshot(page, 'under-base-path');
      // Every request the page made stayed below the base path: assets, API, setup, live stream.
      expect(requested.filter((p) => !p.startsWith('/meterhub/'))).to.deep.equal([]);
      expect(requested.some((p) => p.startsWith('/meterhub/socket.io/'))).to.equal(true);
      expect(requested.some((p) => p.startsWith('/meterhub/api/meters/'))).to.equal(true);
    } finally {
      rig.sim.unit(1).unpin('power');
      await context.close();
    }
  });
});
