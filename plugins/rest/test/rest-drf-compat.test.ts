import { request } from 'node:http';
import { expect } from 'chai';
import { ADMIN, RestRig } from './rest-rig.js';

const HOUR = 3_600_000;
const decode = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;

describe('REST API: drop-in for DRF + simplejwt clients, time zones and numbers', function () {
  this.timeout(40000);
  let rig: RestRig;
  let token: string;
  before(async () => {
    rig = await RestRig.start('sqlite');
    token = (await rig.login()).access;
    // Meters of their own, not on the bus (unit 9, 10): their only history is what is submitted here.
    expect((await rig.request('POST', '/api/meters/', { token, body: { id: 'flat1', driver: 'sdm230', bus: 'sim', unitId: 9, enabled: false } })).status).to.equal(201);
    expect((await rig.request('POST', '/api/meters/', { token, body: { id: 'flat3', driver: 'sdm630', bus: 'sim', unitId: 10, enabled: false } })).status).to.equal(201);
  });
  after(() => rig.stop());

  it('tokens carry simplejwt\'s user_id (a string) and token_type beside sub and typ', async () => {
    const { access, refresh } = await rig.login();
    const a = decode(access);
    const user = (await rig.host.accounts!.users.byUsername(ADMIN.username))!;
    expect(a).to.include({ sub: String(user.id), user_id: String(user.id), typ: 'access', token_type: 'access' });
    expect(a['jti']).to.match(/^[0-9a-f]{32}$/);
    expect(decode(refresh)).to.include({ user_id: String(user.id), token_type: 'refresh' });
  });

  it('logs in with form-encoded and multipart bodies as DRF does; a file in the form is a 400', async () => {
    const form = await fetch(`${rig.base}/api/token/`, { method: 'POST', body: new URLSearchParams(ADMIN) });
    expect(form.status).to.equal(200);
    const { access, refresh } = await form.json() as { access: string; refresh: string };
    expect((await rig.request('GET', '/api/meters/', { token: access })).status).to.equal(200);
    const multipart = new FormData();
    multipart.set('username', ADMIN.username);
    multipart.set('password', ADMIN.password);
    const mp = await fetch(`${rig.base}/api/token/`, { method: 'POST', body: multipart });
    expect(mp.status).to.equal(200);
    const refreshed = await fetch(`${rig.base}/api/token/refresh/`, { method: 'POST', body: new URLSearchParams({ refresh }) });
    expect(refreshed.status).to.equal(200);
    const wrong = await fetch(`${rig.base}/api/token/`, { method: 'POST', body: new URLSearchParams({ username: ADMIN.username }) });
    expect(wrong.status).to.equal(400);
    expect(JSON.stringify(await wrong.json())).to.include('password');
    const withFile = new FormData();
    withFile.set('username', ADMIN.username);
    withFile.set('password', ADMIN.password);
    withFile.set('avatar', new Blob(['x']), 'a.txt');
    expect((await fetch(`${rig.base}/api/token/`, { method: 'POST', body: withFile })).status).to.equal(400);
    // Forms are for the token endpoints: other bodies stay JSON.
    const formMeter = await fetch(`${rig.base}/api/meters/`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: new URLSearchParams({ id: 'x', driver: 'sdm230', bus: 'sim', unitId: '5' }) });
    expect(formMeter.status).to.equal(400);
  });

  it('ignores unknown query parameters and still validates known ones', async () => {
    const list = await rig.request('GET', '/api/meters/?format=json&_=1732700000000', { token });
    expect(list.status).to.equal(200);
    expect((await rig.request('GET', '/api/meters/flat1/power/history/?format=json&_=123', { token })).status).to.equal(200);
    const bad = await rig.request('GET', '/api/meters/?_=1&limit=0', { token });
    expect(bad.status).to.equal(400);
    expect(bad.body.error.details[0].path).to.match(/^\?\/?limit$/);
  });

  it('pages with absolute next/previous URLs from the request\'s host, the first page without offset', async () => {
    const port = new URL(rig.base).port;
    // fetch always sends the real Host: node's http client sends the one a proxy would.
    const first = await new Promise<Record<string, unknown>>((resolve, reject) => {
      request({ host: '127.0.0.1', port, path: '/api/meters/?limit=1', headers: { host: `meters.example.org:${port}`, authorization: `Bearer ${token}` } }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve(JSON.parse(text) as Record<string, unknown>));
      }).on('error', reject).end();
    });
    expect(first).to.include({ count: 3, previous: null, next: `http://meters.example.org:${port}/api/meters/?limit=1&offset=1` });
    const second = await rig.request('GET', '/api/meters/?limit=1&offset=1', { token });
    expect(second.body).to.include({ previous: `${rig.base}/api/meters/?limit=1`, next: `${rig.base}/api/meters/?limit=1&offset=2` });
    const followed = await fetch(second.body.next, { headers: { authorization: `Bearer ${token}` } });
    expect(((await followed.json()) as { results: Array<{ id: string }> }).results[0]!.id).to.equal('flat3');
  });

  it('redirects a path without its trailing slash with 308, keeping method, body and query', async () => {
    const get = await fetch(`${rig.base}/api/meters?limit=2`, { headers: { authorization: `Bearer ${token}` }, redirect: 'manual' });
    expect(get.status).to.equal(308);
    expect(get.headers.get('location')).to.equal('/api/meters/?limit=2');
    expect((await fetch(`${rig.base}/api/meters/flat1`, { headers: { authorization: `Bearer ${token}` }, redirect: 'manual' })).headers.get('location')).to.equal('/api/meters/flat1/');
    // fetch follows a 308 with the same method and body, as browsers do.
    const login = await fetch(`${rig.base}/api/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) });
    expect(login.status).to.equal(200);
    expect(login.redirected).to.equal(true);
    expect((await rig.request('GET', '/api/nothing-here', { token })).status).to.equal(404);
  });

  it('creates meters with numeric ids (strings in URLs) or a generated one; PATCH merges, PUT replaces', async () => {
    const numeric = await rig.request('POST', '/api/meters/', { token, body: { id: 7, driver: 'sdm230', bus: 'sim', unitId: 11, enabled: false } });
    expect(numeric.status).to.equal(201);
    expect(numeric.body.id).to.equal('7');
    expect((await rig.request('GET', '/api/meters/7/', { token })).body.unitId).to.equal(11);
    const generated = await rig.request('POST', '/api/meters/', { token, body: { driver: 'sdm230', bus: 'sim', unitId: 12, enabled: false } });
    expect(generated.status).to.equal(201);
    expect(generated.body.id).to.equal('8');
    expect((await rig.request('POST', '/api/meters/', { token, body: { id: 0, driver: 'sdm230', bus: 'sim', unitId: 13 } })).status).to.equal(400);

    const patched = await rig.request('PATCH', '/api/meters/7/', { token, body: { intervals: { instantMs: 5000 }, name: 'Garage' } });
    expect(patched.status).to.equal(200);
    expect(patched.body).to.deep.include({ enabled: false, name: 'Garage', intervals: { instantMs: 5000, counterMs: 60000 } });
    const renamed = await rig.request('PATCH', '/api/meters/7/', { token, body: { unitId: 14 } });
    expect(renamed.body).to.deep.include({ enabled: false, name: 'Garage', unitId: 14, intervals: { instantMs: 5000, counterMs: 60000 } });
    const removed = await rig.request('PATCH', '/api/meters/7/', { token, body: { name: null } });
    expect(removed.body).to.not.have.property('name');
    const badPatch = await rig.request('PATCH', '/api/meters/7/', { token, body: { unitId: 'four' } });
    expect(badPatch.status).to.equal(400);
    const put = await rig.request('PUT', '/api/meters/7/', { token, body: { id: '7', driver: 'sdm230', bus: 'sim', unitId: 14 } });
    expect(put.body).to.deep.include({ enabled: true, intervals: { instantMs: 1000, counterMs: 60000 } });
    for (const id of ['7', '8']) expect((await rig.request('DELETE', `/api/meters/${id}/`, { token })).status).to.equal(204);
  });

  it('takes the old logger\'s flat readings: old API fields, old parameter names and vocabulary ids', async () => {
    const t0 = Date.UTC(2026, 4, 1, 12);
    const flat = await rig.request('POST', '/api/meters/flat1/power/', { token, body: { timestamp: new Date(t0).toISOString(), voltage: 231.2, current: 4.1, power: 950, frequency: 50, power_factor: 0.98 } });
    expect(flat.status).to.equal(201);
    const batch = await rig.request('POST', '/api/meters/flat1/power/', { token, body: [{ timestamp: t0 + 1000, voltage: 231.3 }, { timestamp: '2026-05-01 12:00:02', 'Line to neutral volts': 231.4, apparentPower: 960 }] });
    expect(batch.body).to.deep.equal({ accepted: 2, spooled: 0 });
    const energy = await rig.request('POST', '/api/meters/flat1/energy/', { token, body: { timestamp: t0, import_energy: 12.5, export_energy: 0.25, energy: 12.75 } });
    expect(energy.status).to.equal(201);
    const raw = await rig.request('GET', `/api/meters/flat1/power/history/?from=${t0}&to=${t0 + 3000}&resolution=raw`, { token });
    expect(raw.body.results.map((r: { values: object }) => r.values)).to.deep.equal([
      { voltageL1: 231.2, currentL1: 4.1, power: 950, frequency: 50, powerFactor: 0.98 },
      { voltageL1: 231.3 },
      { voltageL1: 231.4, apparentPower: 960 },
    ]);
    expect((await rig.request('GET', '/api/meters/flat1/energy/latest/', { token })).body.values).to.deep.equal({ importEnergy: 12.5, exportEnergy: 0.25, totalEnergy: 12.75 });
    // On a three-phase meter `voltage` is the average line-to-neutral voltage.
    expect((await rig.request('POST', '/api/meters/flat3/power/', { token, body: { timestamp: t0, voltage: 230.5, l1_voltage: 229.5 } })).status).to.equal(201);
    expect((await rig.request('GET', '/api/meters/flat3/power/latest/', { token })).body.values).to.deep.equal({ voltageLnAvg: 230.5, voltageL1: 229.5 });

    const wrong = await rig.request('POST', '/api/meters/flat1/power/', { token, body: [{ timestamp: t0, import_energy: 5, warp: 1 }, { timestamp: t0, values: { power: 1 }, voltage: 2 }, { timestamp: 'soon', power: 1 }, { timestamp: t0 }] });
    expect(wrong.status).to.equal(400);
    expect(wrong.body.error.details.map((d: { path: string }) => d.path)).to.include.members(['/0/import_energy', '/0/warp', '/1/voltage', '/2/timestamp', '/3']);
    const notNumber = await rig.request('POST', '/api/meters/flat1/power/', { token, body: { timestamp: t0, voltage: '231' } });
    expect(notNumber.status).to.equal(400);
  });

  it('history defaults to the last 24 h, takes tz for day buckets and names the bucket width in every answer', async () => {
    const now = Date.now();
    await rig.request('POST', '/api/meters/flat1/power/', { token, body: [{ timestamp: now - 25 * HOUR, power: 1 }, { timestamp: now - HOUR, power: 2 }] });
    const recent = await rig.request('GET', '/api/meters/flat1/power/history/?resolution=raw', { token });
    expect(recent.status).to.equal(200);
    expect(recent.body).to.include({ bucket: 'raw', bucketSeconds: null, count: 1 });
    expect(recent.body.results[0].values.power).to.equal(2);

    // Hourly values of two Berlin days in winter (UTC+1).
    const start = Date.parse('2026-01-09T23:00:00Z');
    const hours = Array.from({ length: 48 }, (_, h) => ({ timestamp: start + h * HOUR, power: h < 24 ? 100 : 200 }));
    await rig.request('POST', '/api/meters/flat1/power/', { token, body: hours });
    const q = (extra: string) => rig.request('GET', `/api/meters/flat1/power/history/?from=2026-01-10&to=2026-01-12&measurements=power&${extra}`, { token });
    const berlin = await q('tz=Europe/Berlin&resolution=1d');
    expect(berlin.body).to.include({ tz: 'Europe/Berlin', bucket: '1d', bucketSeconds: 86400, count: 2 });
    expect(berlin.body.results.map((r: { timestamp: string; values: { power: number } }) => [r.timestamp, r.values.power])).to.deep.equal([
      ['2026-01-09T23:00:00.000Z', 100], ['2026-01-10T23:00:00.000Z', 200],
    ]);
    const utc = await q('resolution=1d');
    // UTC days: 23 hours at 100 W and one at 200 W, then 23 at 200 W; the mean at float32 precision.
    expect(utc.body.results.map((r: { values: { power: number } }) => r.values.power)).to.deep.equal([104.166664, 200]);
    const auto = await q('tz=Europe/Berlin&points=16');
    expect(auto.body).to.include({ resolution: '1h', bucket: '3h', bucketSeconds: 10800 });
    expect(auto.body.results).to.have.length(16);
    const badTz = await q('tz=Mars/Olympus');
    expect(badTz.status).to.equal(400);
    expect(badTz.body.error.details[0].path).to.equal('?tz');
  });

  it('sends values as the shortest decimal of their float32, and sums rounded to the counter\'s resolution', async () => {
    const t0 = Date.UTC(2026, 6, 1);
    const f32 = Math.fround(230.3873);
    expect(String(f32)).to.equal('230.38729858398438');
    await rig.request('POST', '/api/meters/flat1/power/', { token, body: { timestamp: t0, voltageL1: f32 } });
    const raw = await rig.request('GET', `/api/meters/flat1/power/history/?from=${t0}&to=${t0 + 1}&resolution=raw`, { token });
    expect(raw.body.results[0].values.voltageL1).to.equal(230.3873);
    const text = await (await fetch(`${rig.base}/api/meters/flat1/power/history/?from=${t0}&to=${t0 + 1}&resolution=raw`, { headers: { authorization: `Bearer ${token}` } })).text();
    expect(text).to.include('"voltageL1":230.3873}');
    // Float32 counters rising by 0.01 kWh every 10 minutes: the sum of deltas carries no noise.
    const counters = Array.from({ length: 7 * 24 * 6 }, (_, i) => ({ timestamp: t0 + i * 600_000, importEnergy: Math.fround(1234.5 + i * 0.01) }));
    await rig.request('POST', '/api/meters/flat1/energy/', { token, body: counters });
    const days = await rig.request('GET', '/api/meters/flat1/energy/consumption/?period=day&from=2026-07-02&to=2026-07-05&measurements=importEnergy', { token });
    for (const d of days.body.results) {
      const v = d.values.importEnergy as number;
      expect(String(v)).to.match(/^\d+(\.\d{1,4})?$/);
      expect(v).to.be.closeTo(1.44, 0.0002);
    }
    const hours = await rig.request('GET', `/api/meters/flat1/energy/history/?from=${t0}&to=${t0 + 24 * HOUR}&resolution=1h&measurements=importEnergy`, { token });
    for (const h of hours.body.results.slice(1)) expect(String(h.delta.importEnergy)).to.match(/^0\.0\d{1,3}$/);
  });

  it('reads date-only consumption bounds in tz and flags partial periods', async () => {
    // 1 kWh per hour from 2026-10-01 00:00 Berlin to 2026-11-01 06:00 Berlin.
    const start = Date.parse('2026-09-30T22:00:00Z');
    const end = Date.parse('2026-11-01T05:00:00Z');
    const body = Array.from({ length: (end - start) / HOUR + 1 }, (_, h) => ({ timestamp: start + h * HOUR, importEnergy: 5000 + h }));
    expect((await rig.request('POST', '/api/meters/flat3/energy/', { token, body })).status).to.equal(201);
    const months = await rig.request('GET', '/api/meters/flat3/energy/consumption/?period=month&tz=Europe/Berlin&from=2026-10-01&to=2026-11-01&measurements=importEnergy', { token });
    expect(months.status).to.equal(200);
    expect(months.body.from).to.equal('2026-09-30T22:00:00.000Z');
    expect(months.body.to).to.equal('2026-10-31T23:00:00.000Z');
    // October only: no "November" row from the hour after UTC midnight; 745 hours (DST), the first has no predecessor.
    expect(months.body.results).to.have.length(1);
    expect(months.body.results[0]).to.deep.include({ start: '2026-10-01T00:00:00+02:00', end: '2026-11-01T00:00:00+01:00', partial: false });
    expect(months.body.results[0].values.importEnergy).to.equal(744);
    const days = await rig.request('GET', '/api/meters/flat3/energy/consumption/?period=day&tz=Europe/Berlin&from=2026-10-31T12:00&to=2026-11-02&measurements=importEnergy', { token });
    expect(days.body.results.map((d: { start: string; partial: boolean }) => [d.start, d.partial])).to.deep.equal([
      ['2026-10-31T00:00:00+01:00', true], // the range starts at noon
      ['2026-11-01T00:00:00+01:00', true], // data ends at 06:00
    ]);
    expect(days.body.results[0].values.importEnergy).to.equal(12);
  });
});
