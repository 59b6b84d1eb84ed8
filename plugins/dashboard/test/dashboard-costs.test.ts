import { expect } from 'chai';
import { ADMIN, RestRig } from '../../rest/test/rest-rig.js';
import { closeBrowser, newPage, screenshot, signIn } from './browser.js';

const DAY = 86_400_000;

describe('dashboard in a real browser: cost beside kWh', function () {
  this.timeout(30000);
  let rig: RestRig;
  let token: string;

  before(async () => {
    // A flat price and no standing charge, so the total does not move while the page loads.
    rig = await RestRig.start('sqlite', {
      tariffs: { default: 'flat', list: [{ id: 'flat', currency: 'EUR', versions: [{ validFrom: '2020-01-01', feedInPerKWh: 0.05, windows: [{ from: '00:00', to: '24:00', pricePerKWh: 0.3 }] }] }] },
    });
    token = (await rig.login()).access;
    expect((await rig.request('POST', '/api/meters/', { token, body: { id: 'garage', name: 'Garage' } })).status).to.equal(201);
    // Hourly readings over two whole days, three and four days back.
    const start = Math.floor(Date.now() / DAY) * DAY - 4 * DAY;
    const readings = Array.from({ length: 49 }, (_, h) => ({ timestamp: start + h * 3_600_000, values: { importEnergy: 100 + h * 1.25, exportEnergy: 10 + h * 0.5 } }));
    expect((await rig.request('POST', '/api/meters/garage/energy/', { token, body: readings })).status).to.equal(201);
  });
  after(async () => {
    await closeBrowser();
    await rig.stop();
  });

  it('shows each period\'s net cost and the total from the API\'s cost', async () => {
    const { context, page } = await newPage();
    try {
      await signIn(page, rig.base, ADMIN);
      await page.goto(`${rig.base}/#/meter/garage`);
      const total = page.locator('[data-testid=consumption-cost]');
      await total.waitFor();
      // 48 hours × 1.25 kWh × 0.30 − 48 × 0.5 kWh × 0.05 = 18.00 − 1.20.
      const api = await rig.request('GET', `/api/meters/garage/energy/consumption/?period=day&from=${Date.now() - 14 * DAY}`, { token });
      const net = api.body.results.reduce((s: number, r: { cost: { net: number } }) => s + r.cost.net, 0);
      expect(net).to.be.closeTo(16.8, 1e-9);
      const shown = await page.evaluate((n) => new Intl.NumberFormat(undefined, { style: 'currency', currency: 'EUR' }).format(n), net);
      expect(await total.textContent()).to.equal(shown);
      const cells = await page.locator('[data-testid=consumption] td.bar-cost').allTextContents();
      expect(cells.filter((c) => c.trim() !== '').length).to.be.greaterThan(0);
      await screenshot(page, 'consumption-cost');
    } finally {
      await context.close();
    }
  });
});
