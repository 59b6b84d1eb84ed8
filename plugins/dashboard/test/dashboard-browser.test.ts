import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { AxeBuilder } from '@axe-core/playwright';
import type { Page } from 'playwright-core';
import { ADMIN, RestRig, VIEWER } from '../../rest/test/rest-rig.js';
import { builtinDriver } from '../../../test-support/builtin-drivers.js';
import { closeBrowser, newPage, screenshot, signIn } from './browser.js';

const DAY = 86400_000;
/** A whole UTC day three days back, filled with one power reading every 5 minutes. */
const dayStart = Math.floor(Date.now() / DAY) * DAY - 3 * DAY;
const STEP = 5 * 60_000;

describe('dashboard in a real browser (Debian chromium)', function () {
  this.timeout(30000);
  let rig: RestRig;
  let token: string;
  const pages: Array<{ close(): Promise<void> }> = [];
  const open = async (opts: { phone?: boolean; dark?: boolean } = {}) => {
    const p = await newPage(opts);
    pages.push(p.context);
    return p.page;
  };

  before(async () => {
    rig = await RestRig.start('sqlite');
    token = (await rig.login()).access;
    const readings = Array.from({ length: DAY / STEP }, (_, i) => ({ timestamp: dayStart + i * STEP, values: { power: 1000 + i } }));
    const stored = await rig.request('POST', '/api/meters/house/power/', { token, body: readings });
    expect(stored.status, JSON.stringify(stored.body)).to.equal(201);
    await rig.waitFor('first live reading', () => rig.host.storage!.latest('house', 'power') !== undefined);
  });
  afterEach(async () => {
    for (const c of pages.splice(0)) await c.close();
    rig.sim.unit(1).faults = {};
  });
  after(async () => {
    await closeBrowser();
    await rig.stop();
  });

  it('signs in: a wrong password shows the error, the right one the overview', async () => {
    const page = await open();
    await page.goto(`${rig.base}/`);
    await screenshot(page, 'sign-in');
    await page.fill('#username', ADMIN.username);
    await page.fill('#password', 'not-the-password');
    await page.click('button[type=submit]');
    await page.locator('#login-error').waitFor();
    expect(await page.locator('#login-error').textContent()).to.equal('Wrong username or password.');
    await page.fill('#password', ADMIN.password);
    await page.click('button[type=submit]');
    await page.locator('[data-meter=house]').waitFor();
    // Tokens never in localStorage; the refresh token only in this tab's sessionStorage.
    const storage = await page.evaluate(() => ({ local: Object.keys(localStorage), session: Object.keys(sessionStorage) }));
    expect(storage.local).to.deep.equal([]);
    expect(storage.session).to.include('meterhub.refresh');
    // A reload keeps the session through the refresh token.
    await page.reload();
    await page.locator('[data-meter=house]').waitFor();
  });

  it('shows a live value change on the overview within 2 s of the change at the meter', async () => {
    const page = await open();
    await signIn(page, rig.base, ADMIN);
    await page.locator('[data-meter=house][data-state=online]').waitFor();
    const started = Date.now();
    rig.sim.unit(1).pin('power', 4321.5);
    await page.locator('[data-meter=house] [data-testid=power][data-value="4321.5"]').waitFor({ timeout: 2000 });
    expect(Date.now() - started).to.be.below(2000);
    await page.locator('[data-meter=house] .spark[data-points]').waitFor();
    await screenshot(page, 'overview');
    rig.sim.unit(1).unpin('power');
  });

  it('follows the meters again after the live connection drops and comes back', async () => {
    const upgrades: Array<import('node:stream').Duplex> = [];
    const track = (_req: unknown, socket: import('node:stream').Duplex) => upgrades.push(socket);
    rig.host.http.server.on('upgrade', track);
    try {
      const page = await open();
      await signIn(page, rig.base, ADMIN);
      await page.locator('[data-testid=live]', { hasText: 'live' }).waitFor();
      expect(upgrades.length).to.be.greaterThan(0);
      for (const socket of upgrades.splice(0)) socket.destroy();
      await page.locator('[data-testid=live]', { hasText: 'reconnecting' }).waitFor();
      await page.locator('[data-testid=live]', { hasText: /^live$/ }).waitFor({ timeout: 10000 });
      // Readings flow only if the page subscribed again on the new connection.
      rig.sim.unit(1).pin('power', 1234.5);
      await page.locator('[data-meter=house] [data-testid=power][data-value="1234.5"]').waitFor({ timeout: 3000 });
    } finally {
      rig.host.http.server.off('upgrade', track);
      rig.sim.unit(1).unpin('power');
    }
  });

  it('shows a meter going offline within 3 s, and online again', async () => {
    const page = await open();
    await signIn(page, rig.base, ADMIN);
    await page.locator('[data-meter=house][data-state=online]').waitFor();
    rig.sim.unit(1).faults = { silent: true };
    await page.locator('[data-meter=house][data-state=offline]').waitFor({ timeout: 3000 });
    rig.sim.unit(1).faults = {};
    await page.locator('[data-meter=house][data-state=online]').waitFor({ timeout: 15000 });
  });

  async function showStoredDay(page: Page): Promise<void> {
    const q = new URLSearchParams({ range: 'custom', from: new Date(dayStart).toISOString(), to: new Date(dayStart + DAY).toISOString(), m: 'power' });
    await page.goto(`${rig.base}/#/meter/house?${q}`);
    await page.locator('[data-testid=history-chart][data-points]').waitFor();
  }

  it('draws the stored day of history: one point per reading, as the API answers', async () => {
    const page = await open();
    await signIn(page, rig.base, ADMIN);
    await showStoredDay(page);
    const api = await rig.request('GET', `/api/meters/house/power/history/?from=${dayStart}&to=${dayStart + DAY}&measurements=power&points=1000`, { token });
    expect(api.body.count).to.equal(DAY / STEP);
    expect(await page.locator('[data-testid=history-chart]').getAttribute('data-points')).to.equal(String(DAY / STEP));
    // uPlot drew them: its data holds the same number of x values.
    expect(await page.locator('[data-testid=bucket]').textContent()).to.match(/^\s*288 points, resolution \w+, one point per 5/);
    await page.locator('[data-measurement=voltageL1]').waitFor();
    await page.locator('[data-testid=consumption]').waitFor();
    await screenshot(page, 'meter');
  });

  it('downloads the shown range as CSV that matches the API, and only the zoomed part after a zoom', async () => {
    const page = await open();
    await signIn(page, rig.base, ADMIN);
    await showStoredDay(page);
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download CSV' }).click();
    const file = await download;
    expect(file.suggestedFilename()).to.match(/^meterhub-house-power-.*\.csv$/);
    const rows = parse(readFileSync((await file.path())!, 'utf8'), { columns: true }) as Array<Record<string, string>>;
    const api = await rig.request('GET', `/api/meters/house/power/history/?from=${dayStart}&to=${dayStart + DAY}&measurements=power&resolution=raw&points=1000`, { token });
    expect(rows.length).to.equal(api.body.results.length);
    const column = Object.keys(rows[0]!).find((k) => k.startsWith('power'))!;
    expect(rows.map((r) => Number(r[column]))).to.deep.equal(api.body.results.map((p: { values: { power: number } }) => p.values.power));
    expect(rows.map((r) => Date.parse(r[Object.keys(r)[0]!]!))).to.deep.equal(api.body.results.map((p: { timestamp: string }) => Date.parse(p.timestamp)));

    // Dragging across the chart zooms in; the download then takes the zoomed part only.
    const over = (await page.locator('[data-testid=history-chart] .u-over').boundingBox())!;
    await page.mouse.move(over.x + over.width * 0.25, over.y + over.height / 2);
    await page.mouse.down();
    await page.mouse.move(over.x + over.width * 0.5, over.y + over.height / 2, { steps: 5 });
    await page.mouse.up();
    await page.locator('[data-testid=bucket]', { hasText: 'zoomed to' }).waitFor();
    const zoomedDownload = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download CSV' }).click();
    const part = parse(readFileSync((await (await zoomedDownload).path())!, 'utf8'), { columns: true }) as Array<Record<string, string>>;
    const times = part.map((r) => Date.parse(r[Object.keys(r)[0]!]!));
    expect(part.length).to.be.within(60, 84, 'about a quarter of the day');
    expect(times[0]).to.be.within(dayStart + 0.2 * DAY, dayStart + 0.3 * DAY);
    expect(part.map((r) => Number(r[column]))).to.deep.equal(rows.slice(rows.findIndex((r) => Date.parse(r[Object.keys(r)[0]!]!) === times[0]), rows.findIndex((r) => Date.parse(r[Object.keys(r)[0]!]!) === times[0]) + part.length).map((r) => Number(r[column])));
  });

  it('lets an admin add a meter that then goes online, edit it, disable and enable it', async () => {
    const page = await open();
    await signIn(page, rig.base, ADMIN);
    await page.goto(`${rig.base}/#/admin/meters`);
    await page.getByLabel('Id', { exact: true }).fill('flat');
    await page.getByLabel('Name', { exact: true }).fill('New meter');
    await page.getByLabel('Driver').fill('sdm230');
    await page.locator('form[aria-labelledby=add-h]').getByLabel(/^Bus/).selectOption('sim');
    await page.locator('form[aria-labelledby=add-h]').getByLabel('Unit id').fill('2');
    await page.getByRole('button', { name: 'Add meter' }).click();
    await page.locator('tr[data-meter=flat]').waitFor();
    await screenshot(page, 'admin-meters');
    await page.goto(`${rig.base}/#/`);
    await page.locator('[data-meter=flat][data-state=online]').waitFor({ timeout: 10000 });
    await page.locator('[data-meter=flat] [data-testid=power][data-value="640.5"]').waitFor();

    await page.goto(`${rig.base}/#/admin/meters`);
    await page.locator('tr[data-meter=flat]').getByRole('button', { name: 'Edit' }).click();
    await page.locator('form[data-edit=flat]').getByLabel('Name').fill('Flat');
    await page.locator('form[data-edit=flat]').getByRole('button', { name: 'Save' }).click();
    await page.locator('tr[data-meter=flat] td:nth-child(2)', { hasText: /^Flat$/ }).waitFor();
    expect((await rig.request('GET', '/api/meters/flat/', { token })).body.name).to.equal('Flat');
    await page.locator('tr[data-meter=flat]').getByRole('button', { name: 'Disable' }).click();
    await page.locator('tr[data-meter=flat] .badge-disabled').waitFor();
    await page.locator('tr[data-meter=flat]').getByRole('button', { name: 'Enable' }).click();
    await page.locator('tr[data-meter=flat] .badge-disabled').waitFor({ state: 'detached' });
    expect((await rig.request('GET', '/api/meters/flat/', { token })).body.enabled).to.not.equal(false);
  });

  it('lets an admin scan a bus with a progress bar and add a found meter in one click', async () => {
    rig.sim.addUnit(5, builtinDriver('sdm630')).pin('power', 777.5);
    const page = await open();
    await signIn(page, rig.base, ADMIN);
    await page.goto(`${rig.base}/#/admin/meters`);
    const form = page.locator('form[aria-labelledby=scan-h]');
    await form.getByLabel('Bus').selectOption('sim');
    await form.getByLabel('To unit id').fill('5');
    await form.getByRole('button', { name: 'Scan' }).click();
    await page.locator('progress#scan-bar').waitFor();
    await page.locator('.scan-progress', { hasText: 'Scan done: 5 of 5 unit ids' }).waitFor({ timeout: 10000 });
    expect(await page.locator('progress#scan-bar').evaluate((el: HTMLProgressElement) => [el.value, el.max])).to.deep.equal([5, 5]);
    // Unit 1 is the configured meter: a link, not a button.
    await page.locator('tr[data-unit="1"]').getByRole('link', { name: 'house' }).waitFor();
    expect(await page.locator('tr[data-unit="5"] td:nth-child(2)').textContent()).to.match(/SDM630/);
    await screenshot(page, 'admin-bus-scan');
    await page.locator('tr[data-unit="5"]').getByRole('button', { name: 'Add as sim-5' }).click();
    await page.locator('tr[data-unit="5"]').getByRole('link', { name: 'sim-5' }).waitFor();
    await page.locator('tr[data-meter=sim-5]').waitFor();
    await rig.waitFor('sim-5 polled', async () => (await rig.request('GET', '/api/meters/sim-5/power/latest/', { token })).body?.values?.power === 777.5, 10000);
    expect((await rig.request('GET', '/api/meters/sim-5/', { token })).body).to.deep.include({ driver: 'sdm630', bus: 'sim', unitId: 5 });
  });

  it('lets an admin add a user and create an API key that is shown once and works', async () => {
    const page = await open();
    await signIn(page, rig.base, ADMIN);
    await page.goto(`${rig.base}/#/admin/users`);
    await page.getByLabel('Username').fill('grace');
    await page.getByLabel('Password').fill('a-long-password-2');
    await page.getByRole('button', { name: 'Add user' }).click();
    await page.locator('tr[data-user=grace]').waitFor();
    expect((await rig.request('POST', '/api/token/', { body: { username: 'grace', password: 'a-long-password-2' } })).status).to.equal(200);

    await page.goto(`${rig.base}/#/admin/keys`);
    await page.getByLabel('Name').fill('grafana');
    await page.getByRole('button', { name: 'Create key' }).click();
    const key = (await page.locator('[data-testid=new-key] code').textContent())!;
    expect(key).to.match(/^mh_/);
    expect((await rig.request('GET', '/api/meters/', { key })).status).to.equal(200);
    await screenshot(page, 'admin-keys');
    await page.reload();
    await page.locator('main h1', { hasText: 'API keys' }).waitFor();
    await page.locator('td', { hasText: 'grafana' }).first().waitFor();
    expect(await page.content()).not.to.include(key);
  });

  it('shows a viewer no admin pages, and the status page', async () => {
    const page = await open();
    await signIn(page, rig.base, VIEWER);
    expect(await page.locator('header nav a').allTextContents()).to.deep.equal(['Overview', 'Status']);
    await page.goto(`${rig.base}/#/admin/users`);
    await page.getByRole('heading', { name: 'Not allowed' }).waitFor();
    // The status page is for everyone: states from /health/, figures from /api/status/.
    await page.goto(`${rig.base}/#/status`);
    const bus = page.locator('tr[data-bus=sim]');
    await bus.waitFor();
    const requests = Number((await bus.locator('[data-fig=requests]').textContent())!.replace(/\D/g, ''));
    expect(requests).to.be.greaterThan(0);
    expect(await bus.locator('[data-fig=latency]').textContent()).to.match(/^\d[\d.,]* \/ \d[\d.,]* \/ \d[\d.,]*$/);
    expect(await bus.locator('[data-fig=errors]').textContent()).to.match(/none|timeout|connection/);
    expect(await page.locator('[data-fig=pending]').textContent()).to.match(/^\d[\d,.]*$/);
    await page.locator('[data-fig=loop]', { hasText: / ms$/ }).waitFor();
    await screenshot(page, 'status');
    await page.getByRole('region', { name: 'Meters table' }).getByRole('link', { name: 'house' }).waitFor();
    await page.getByRole('region', { name: 'Plugins table' }).getByRole('cell', { name: 'dashboard', exact: true }).waitFor();
  });

  it('fits a 390×844 phone without horizontal scrolling, and axe finds no serious or critical violation, on every page', async () => {
    const routes: Array<[string, string]> = [
      ['overview', '#/'], ['meter', '#/meter/house?range=hour'], ['status', '#/status'],
      ['admin-meters', '#/admin/meters'], ['admin-users', '#/admin/users'], ['admin-keys', '#/admin/keys'],
    ];
    const page = await open({ phone: true });
    await signIn(page, rig.base, ADMIN);
    const problems: string[] = [];
    for (const [name, route] of routes) {
      await page.goto(`${rig.base}/${route}`);
      await page.locator('main:not([aria-busy]) h1').waitFor();
      if (name === 'meter') await page.locator('[data-testid=history-chart][data-points]').waitFor();
      if (name === 'status') await page.getByRole('heading', { name: 'Buses' }).waitFor();
      const { scroll, client } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
      if (scroll > client) problems.push(`${name}: scrollWidth ${scroll} > ${client}`);
      const axe = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa']).analyze();
      for (const v of axe.violations.filter((x) => x.impact === 'serious' || x.impact === 'critical')) {
        problems.push(`${name}: ${v.id} ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
      }
      await screenshot(page, `${name}-phone`);
    }
    // Dark mode follows the system: its colours pass the same contrast checks.
    const dark = await open({ dark: true });
    await signIn(dark, rig.base, ADMIN);
    for (const [name, route] of routes.slice(0, 2)) {
      await dark.goto(`${rig.base}/${route}`);
      await dark.locator('main:not([aria-busy]) h1').waitFor();
      if (name === 'meter') await dark.locator('[data-testid=history-chart][data-points]').waitFor();
      const axe = await new AxeBuilder({ page: dark }).withTags(['wcag2a', 'wcag2aa']).analyze();
      for (const v of axe.violations.filter((x) => x.impact === 'serious' || x.impact === 'critical')) {
        problems.push(`${name} (dark): ${v.id} ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
      }
      await screenshot(dark, `${name}-dark`);
      if (name === 'meter') {
        await dark.locator('#history-h').scrollIntoViewIfNeeded();
        await dark.evaluate(() => document.getElementById('history-h')!.scrollIntoView());
        await screenshot(dark, 'meter-history-dark', false);
      }
    }
    const desktop = await open();
    await signIn(desktop, rig.base, ADMIN);
    await desktop.locator('[data-meter=house] .spark[data-points]').waitFor();
    await screenshot(desktop, 'overview-desktop', false);
    expect(problems).to.deep.equal([]);
  }).timeout(60000);

  it('tells the first visitor of a host without accounts how to create the first admin (sign-in page checked by axe too)', async () => {
    const fresh = await RestRig.start('sqlite');
    try {
      // Straight in the database: the last admin cannot be deleted through the accounts API.
      await fresh.host.storage!.knex('users').del();
      const page = await open();
      await page.goto(`${fresh.base}/`);
      await page.locator('[data-testid=first-admin]').waitFor();
      expect(await page.locator('[data-testid=first-admin] code').textContent()).to.equal('meterhub user add NAME --role admin');
      const axe = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa']).analyze();
      expect(axe.violations.filter((x) => x.impact === 'serious' || x.impact === 'critical').map((v) => v.id)).to.deep.equal([]);
      await screenshot(page, 'first-admin');
    } finally {
      await fresh.stop();
    }
  });
});
