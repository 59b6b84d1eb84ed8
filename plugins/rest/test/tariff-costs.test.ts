import { expect } from 'chai';
import { RestRig } from './rest-rig.js';
import { expectedCost, minuteReadings as readingsEvery, TARIFFS, type TestReading } from '../../../test-support/tariff-fixtures.js';

const [TOU, NIGHTSAVER] = TARIFFS.list as [(typeof TARIFFS.list)[number], (typeof TARIFFS.list)[number]];
const at = (iso: string) => Date.parse(iso);

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`REST API on ${engine}: consumption with costs`, function () {
    this.timeout(60000);
    let rig: RestRig;
    let token: string;
    // PostgreSQL rolls a backfill up at some ms per minute: a reading every 5 minutes keeps the run short there.
    const step = engine === 'postgres' ? 5 : 1;
    const minuteReadings = (from: number, to: number, feedIn = false) => readingsEvery(from, to, feedIn, step);
    before(async () => {
      rig = await RestRig.start(engine, { tariffs: TARIFFS });
      token = (await rig.login()).access;
    });
    after(() => rig.stop());

    /** Creates a pushed meter and submits readings in batches of the API's largest size. */
    async function meterWith(id: string, readings: readonly TestReading[]): Promise<void> {
      expect((await rig.request('POST', '/api/meters/', { token, body: { id } })).status).to.equal(201);
      for (let i = 0; i < readings.length; i += 5000) {
        expect((await rig.request('POST', `/api/meters/${id}/energy/`, { token, body: readings.slice(i, i + 5000) })).status).to.equal(201);
      }
    }

    async function days(id: string, from: string, to: string) {
      const r = await rig.request('GET', `/api/meters/${id}/energy/consumption/?period=day&tz=Europe/Berlin&from=${from}&to=${to}`, { token });
      expect(r.status, JSON.stringify(r.body)).to.equal(200);
      return r.body.results as Array<{ start: string; end: string; values: Record<string, number>; cost: Record<string, unknown> }>;
    }

    it('a weekday across the day/night boundaries is priced per window, not total × one price', async () => {
      // Tuesday 2026-05-19 in Berlin (UTC+2), with the evening before so its first minute has a predecessor.
      const readings = minuteReadings(at('2026-05-18T20:00:00Z'), at('2026-05-19T23:00:00Z'));
      await meterWith('weekday', readings);
      const [day] = await days('weekday', '2026-05-19', '2026-05-20');
      const expected = expectedCost(TOU, readings, at('2026-05-18T22:00:00Z'), at('2026-05-19T22:00:00Z'));
      expect(day!.cost).to.deep.equal({ tariff: 'tou', currency: 'EUR', importCost: expected.importCost, exportCredit: 0, standingCharge: 0.5, net: expected.net });
      expect(day!.values['importEnergy']).to.be.closeTo(expected.importKWh, 0.001);
      // Priced at one price the day would cost something else: the split matters.
      expect(expected.importCost).to.not.be.oneOf([0.31, 0.19].map((p) => Math.round(expected.importKWh * p * 100) / 100));

      // Past retention.minuteDays the minute rollups are gone (what the retention job deletes): those hours are priced
      // from their hourly rollups, and the windows change on whole hours, so the day costs the same.
      const deleted = await rig.host.storage!.store.deleteBefore('energy', '1m', at('2026-05-19T12:00:00Z'));
      expect(deleted).to.be.greaterThan(0);
      const [again] = await days('weekday', '2026-05-19', '2026-05-20');
      expect(again!.cost).to.deep.equal(day!.cost);
    });

    it('prices change at midnight: each day keeps the prices that applied then (validFrom)', async () => {
      // Sunday 2026-05-31 (weekend price of the first version), Monday 2026-06-01 (the second version).
      const readings = minuteReadings(at('2026-05-30T21:00:00Z'), at('2026-06-01T22:30:00Z'));
      await meterWith('change', readings);
      const [sunday, monday] = await days('change', '2026-05-31', '2026-06-02');
      const sundayExpected = expectedCost(TOU, readings, at('2026-05-30T22:00:00Z'), at('2026-05-31T22:00:00Z'));
      const mondayExpected = expectedCost(TOU, readings, at('2026-05-31T22:00:00Z'), at('2026-06-01T22:00:00Z'));
      expect(sunday!.cost).to.include({ importCost: sundayExpected.importCost, standingCharge: 0.5, net: sundayExpected.net });
      expect(monday!.cost).to.include({ importCost: mondayExpected.importCost, standingCharge: 0.61, net: mondayExpected.net });
      expect(sundayExpected.importCost).to.equal(Math.round(sundayExpected.importKWh * 0.23 * 100) / 100);
    });

    it('DST days of 23 and 25 hours: night minutes follow local time', async () => {
      const spring = minuteReadings(at('2026-03-28T21:00:00Z'), at('2026-03-29T23:00:00Z'));
      const autumn = minuteReadings(at('2026-10-24T20:00:00Z'), at('2026-10-26T00:00:00Z'));
      await meterWith('dst', [...spring, ...autumn]);
      const [short] = await days('dst', '2026-03-29', '2026-03-30');
      const [long] = await days('dst', '2026-10-25', '2026-10-26');
      expect(short!.end).to.equal('2026-03-30T00:00:00+02:00');
      expect(long!.start).to.equal('2026-10-25T00:00:00+02:00');
      const shortExpected = expectedCost(NIGHTSAVER, spring, at('2026-03-28T23:00:00Z'), at('2026-03-29T22:00:00Z'));
      const longExpected = expectedCost(NIGHTSAVER, autumn, at('2026-10-24T22:00:00Z'), at('2026-10-25T23:00:00Z'));
      expect(short!.cost).to.deep.equal({ tariff: 'nightsaver', currency: 'GBP', importCost: shortExpected.importCost, exportCredit: 0, standingCharge: 0.4, net: shortExpected.net });
      expect(long!.cost).to.deep.equal({ tariff: 'nightsaver', currency: 'GBP', importCost: longExpected.importCost, exportCredit: 0, standingCharge: 0.4, net: longExpected.net });
      // 23 and 25 hours of readings, each minute's increase counted once.
      expect(short!.values['importEnergy']).to.be.closeTo(shortExpected.importKWh, 0.001); // kWh are rounded to the counter's resolution
      expect(long!.values['importEnergy']).to.be.closeTo(longExpected.importKWh, 0.001);
    });

    it('a feed-in day: exported energy is credited at the feed-in price and netted', async () => {
      const readings = minuteReadings(at('2026-05-22T20:00:00Z'), at('2026-05-23T23:00:00Z'), true);
      await meterWith('solar', readings);
      const [saturday] = await days('solar', '2026-05-23', '2026-05-24');
      const expected = expectedCost(TOU, readings, at('2026-05-22T22:00:00Z'), at('2026-05-23T22:00:00Z'));
      expect(expected.exportCredit).to.be.greaterThan(0);
      expect(saturday!.cost).to.deep.equal({ tariff: 'tou', currency: 'EUR', importCost: expected.importCost, exportCredit: expected.exportCredit, standingCharge: 0.5, net: expected.net });
      expect(expected.net).to.equal(Math.round((expected.importCost + 0.5 - expected.exportCredit) * 100) / 100);
    });

    it('admins read the tariffs; viewers may not', async () => {
      const list = await rig.request('GET', '/api/tariffs/', { token });
      expect(list.status).to.equal(200);
      expect(list.body).to.deep.include({ default: 'tou', meters: { dst: 'nightsaver' }, count: 2 });
      expect(list.body.results[1]).to.deep.include({ id: 'nightsaver', currency: 'GBP', minorUnitDigits: 2 });
      expect(list.body.results[1].versions[0]).to.deep.include({ feedInPerKWh: 0 });
      expect((await rig.request('GET', '/api/meters/dst/tariff/', { token })).body.id).to.equal('nightsaver');
      expect((await rig.request('GET', '/api/meters/house/tariff/', { token })).body.id).to.equal('tou');
      expect((await rig.request('GET', '/api/tariffs/nope/', { token })).status).to.equal(404);
      const viewer = (await rig.login({ username: 'vic', password: 'viewer-password-1' })).access;
      expect((await rig.request('GET', '/api/tariffs/', { token: viewer })).status).to.equal(403);
      expect((await rig.request('GET', '/api/tariffs/')).status).to.equal(401);
    });
  });
}
