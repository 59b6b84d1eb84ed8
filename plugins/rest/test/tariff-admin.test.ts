import { expect } from 'chai';
import { parse } from 'csv-parse/sync';
import { RestRig, VIEWER } from './rest-rig.js';
import { runCli } from '../../../test-support/run-cli.js';
import { expectedCost, minuteReadings as readingsEvery, TARIFFS, type TestReading } from '../../../test-support/tariff-fixtures.js';

/** The fixture's time-of-use tariff: created over REST with its first price period, the second added later. */
const TOU = TARIFFS.list[0]!;
const [FIRST, SECOND] = TOU.versions as [(typeof TOU.versions)[number], (typeof TOU.versions)[number]];
const FIXED = { id: 'fixed', currency: 'CHF', timeZone: 'Europe/Zurich', versions: [{ validFrom: '2026-01-01', windows: [{ from: '00:00', to: '24:00', pricePerKWh: 0.27 }] }] };
const at = (iso: string) => Date.parse(iso);
type Period = { start: string; end: string; values: Record<string, number>; cost?: Record<string, unknown> };

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`REST API on ${engine}: admins manage tariffs`, function () {
    this.timeout(120000);
    let rig: RestRig;
    let token: string;
    let viewer: string;
    // PostgreSQL rolls a backfill up at some ms per minute: a reading every 5 minutes keeps the run short there.
    const step = engine === 'postgres' ? 5 : 1;
    // Tuesday 19 May 2026 in Berlin, with the evening before so its first minute has a predecessor.
    const tuesday = readingsEvery(at('2026-05-18T20:00:00Z'), at('2026-05-19T23:00:00Z'), false, step);
    // Sunday 31 May (first prices) and Monday 1 June (the price period added later), with feed-in.
    const turn = readingsEvery(at('2026-05-30T21:00:00Z'), at('2026-06-01T22:30:00Z'), true, step);
    const berlinDay = (d: string) => [at(`${d}T00:00:00+02:00`), at(`${d}T00:00:00+02:00`) + 86_400_000] as const;

    before(async () => {
      rig = await RestRig.start(engine, { tariffs: { list: [FIXED], meters: { house: 'fixed' } } }, {}, { configFile: true });
      token = (await rig.login()).access;
      viewer = (await rig.login(VIEWER)).access;
      await meterWith('flat', tuesday);
      await meterWith('solar', turn);
    });
    after(() => rig.stop());

    async function meterWith(id: string, readings: readonly TestReading[]): Promise<void> {
      expect((await rig.request('POST', '/api/meters/', { token, body: { id } })).status).to.equal(201);
      for (let i = 0; i < readings.length; i += 5000) {
        expect((await rig.request('POST', `/api/meters/${id}/energy/`, { token, body: readings.slice(i, i + 5000) })).status).to.equal(201);
      }
    }

    async function days(id: string, from: string, to: string): Promise<Period[]> {
      const r = await rig.request('GET', `/api/meters/${id}/energy/consumption/?period=day&tz=Europe/Berlin&from=${from}&to=${to}`, { token });
      expect(r.status, JSON.stringify(r.body)).to.equal(200);
      return r.body.results as Period[];
    }

    const call = (method: string, path: string, body?: unknown, who = token) => rig.request(method, path, { token: who, ...(body !== undefined ? { body } : {}) });

    it('an admin creates a tariff and assigns it: the consumption answer is priced by it at once', async () => {
      expect((await days('flat', '2026-05-19', '2026-05-20'))[0]!.cost).to.equal(undefined);
      const created = await call('POST', '/api/tariffs/', { ...TOU, versions: [FIRST] });
      expect(created.status, JSON.stringify(created.body)).to.equal(201);
      // Schema defaults filled in, as the config file's tariffs get them.
      expect(created.body).to.deep.include({ id: 'tou', source: 'api', minorUnitDigits: 2 });
      expect(created.body.versions).to.have.length(1);

      const assigned = await call('PUT', '/api/meters/flat/tariff/', { tariff: 'tou' });
      expect(assigned.status, JSON.stringify(assigned.body)).to.equal(200);
      expect(assigned.body.id).to.equal('tou');
      const [day] = await days('flat', '2026-05-19', '2026-05-20');
      const expected = expectedCost(TOU, tuesday, ...berlinDay('2026-05-19'));
      expect(day!.cost).to.deep.equal({ tariff: 'tou', currency: 'EUR', importCost: expected.importCost, exportCredit: 0, standingCharge: 0.5, net: expected.net });
      expect((await call('GET', '/api/tariffs/')).body).to.deep.include({ meters: { house: 'fixed', flat: 'tou' }, count: 2 });
    });

    it('the default tariff, and a price period added later: earlier days keep the prices that applied then', async () => {
      expect((await call('PATCH', '/api/tariffs/', { default: 'tou' })).body).to.deep.include({ default: 'tou' });
      const before = await days('solar', '2026-05-31', '2026-06-02');
      // Until the second period exists, Monday is priced with the first one's prices.
      const firstOnly = { ...TOU, versions: [FIRST] };
      expect(before[1]!.cost).to.include({ importCost: expectedCost(firstOnly, turn, ...berlinDay('2026-06-01')).importCost, standingCharge: 0.5 });

      const added = await call('POST', '/api/tariffs/tou/versions/', SECOND);
      expect(added.status, JSON.stringify(added.body)).to.equal(201);
      expect(added.body.versions.map((v: { validFrom: string }) => v.validFrom)).to.deep.equal(['2026-01-01', '2026-06-01']);
      const [sunday, monday] = await days('solar', '2026-05-31', '2026-06-02');
      for (const [period, d] of [[sunday!, '2026-05-31'], [monday!, '2026-06-01']] as const) {
        const expected = expectedCost(TOU, turn, ...berlinDay(d));
        expect(expected.exportCredit).to.be.greaterThan(0);
        expect(period.cost).to.deep.equal({ tariff: 'tou', currency: 'EUR', importCost: expected.importCost, exportCredit: expected.exportCredit, standingCharge: expected.standingCharge, net: expected.net });
      }
      expect(sunday!.cost).to.deep.equal(before[0]!.cost);
      expect(monday!.cost!['standingCharge']).to.equal(0.61);
      // A second period from the same date is a conflict, not a silent replacement.
      expect((await call('POST', '/api/tariffs/tou/versions/', SECOND)).status).to.equal(409);
    });

    it('tariffs and assignments survive a restart; `meterhub export` on the stopped host writes the REST export\'s cost columns', async () => {
      const query = 'meters=flat,solar&family=energy&period=day&measurements=importEnergy,exportEnergy&from=2026-05-19&to=2026-06-02&tz=Europe/Berlin';
      const res = await fetch(`${rig.base}/api/export/?format=csv&${query}`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).to.equal(200);
      const viaRest = parse(await res.text(), { columns: true }) as Array<Record<string, string>>;
      const beforeDays = await days('solar', '2026-05-31', '2026-06-02');
      let cli: Awaited<ReturnType<typeof runCli>> | undefined;
      await rig.restart(async () => {
        cli = await runCli(['export', '--meters', 'flat,solar', '--family', 'energy', '--period', 'day', '--measurements', 'importEnergy,exportEnergy',
          '--from', '2026-05-19', '--to', '2026-06-02', '--tz', 'Europe/Berlin', '--out', '-'], rig.root);
      });
      expect(cli!.code, cli!.stderr).to.equal(0);
      const viaCli = parse(cli!.stdout, { columns: true }) as Array<Record<string, string>>;
      const costColumns = ['importCost (EUR)', 'exportCredit (EUR)', 'standingCharge (EUR)', 'net (EUR)'];
      expect(Object.keys(viaCli[0]!)).to.include.members(costColumns);
      expect(viaCli).to.deep.equal(viaRest);
      const monday = viaCli.find((r) => r['meter'] === 'solar' && r['start (Europe/Berlin)'] === '2026-06-01T00:00:00+02:00')!;
      expect(monday['net (EUR)']).to.equal(expectedCost(TOU, turn, ...berlinDay('2026-06-01')).net.toFixed(2));

      token = (await rig.login()).access;
      const list = await call('GET', '/api/tariffs/');
      expect(list.body).to.deep.include({ default: 'tou', meters: { house: 'fixed', flat: 'tou' }, count: 2 });
      expect(list.body.results.map((t: { id: string; source: string }) => [t.id, t.source])).to.deep.equal([['fixed', 'config'], ['tou', 'api']]);
      expect(await days('solar', '2026-05-31', '2026-06-02')).to.deep.equal(beforeDays);
    });

    it('bad bodies answer 400 naming the field, checked as the config file is; nothing is stored and nothing logs at error level', async () => {
      const since = rig.logs.length;
      const bad = async (method: string, path: string, body: unknown, field: string, text: string) => {
        const r = await call(method, path, body);
        expect(r.status, `${method} ${path} ${JSON.stringify(r.body)}`).to.equal(400);
        const detail = (r.body.error.details as Array<{ path: string; message: string }>).find((d) => d.path === field);
        expect(detail, `${field} in ${JSON.stringify(r.body.error.details)}`).to.not.equal(undefined);
        expect(detail!.message).to.include(text);
      };
      const good = { id: 'spare', currency: 'EUR', versions: [{ validFrom: '2026-01-01', windows: [{ from: '00:00', to: '24:00', pricePerKWh: 0.3 }] }] };
      await bad('POST', '/api/tariffs/', { ...good, currency: 'euro' }, '/currency', 'pattern');
      await bad('POST', '/api/tariffs/', { ...good, currency: 'XYZ' }, '/currency', 'ISO 4217');
      await bad('POST', '/api/tariffs/', { ...good, timeZone: 'Mars/Olympus' }, '/timeZone', 'IANA');
      await bad('POST', '/api/tariffs/', { ...good, versions: [{ validFrom: '2026-01-01', windows: [{ from: '07:00', to: '22:00', pricePerKWh: 0.3 }] }] }, '/versions/0/windows', 'no window covers mon 00:00-07:00, 22:00-24:00');
      await bad('POST', '/api/tariffs/', { ...good, versions: [{ ...good.versions[0], standingChargePerDay: -1 }] }, '/versions/0/standingChargePerDay', '>= 0');
      await bad('POST', '/api/tariffs/', { ...good, id: undefined }, '/id', 'required');
      await bad('PUT', '/api/tariffs/tou/', { ...good, id: 'other' }, '/id', 'cannot change');
      await bad('POST', '/api/tariffs/tou/versions/', { validFrom: '2026-02-30', windows: [{ from: '00:00', to: '24:00', pricePerKWh: 0.3 }] }, '/validFrom', 'not a calendar date');
      await bad('POST', '/api/tariffs/tou/versions/', { validFrom: '2026-09-01', windows: [{ from: '00:00', to: '24:00', pricePerKWh: 0.3 }, { days: ['sun'], from: '10:00', to: '11:00', pricePerKWh: 0.1 }] }, '/windows/1', 'overlaps an earlier window on sun: 10:00-11:00');
      await bad('PUT', '/api/meters/flat/tariff/', { tariff: 'nope' }, '/tariff', 'no tariff "nope"');
      await bad('PATCH', '/api/tariffs/', { default: 'nope' }, '/default', 'no tariff "nope"');
      await bad('PATCH', '/api/tariffs/', {}, '/default', 'required');
      const list = await call('GET', '/api/tariffs/');
      expect(list.body).to.deep.include({ default: 'tou', count: 2 });
      expect(list.body.results[1].versions).to.have.length(2);
      expect(rig.errorLogs(since)).to.deep.equal([]);
    });

    it('viewers get 403 and nobody gets in without credentials; unknown tariffs and meters are 404', async () => {
      const writes: Array<[string, string, unknown?]> = [
        ['POST', '/api/tariffs/', { ...FIXED, id: 'v' }], ['PATCH', '/api/tariffs/', { default: null }], ['PUT', '/api/tariffs/tou/', TOU],
        ['DELETE', '/api/tariffs/tou/'], ['POST', '/api/tariffs/tou/versions/', SECOND], ['PUT', '/api/meters/flat/tariff/', { tariff: 'fixed' }], ['DELETE', '/api/meters/flat/tariff/'],
      ];
      for (const [method, path, body] of writes) {
        expect((await call(method, path, body, viewer)).status, `${method} ${path}`).to.equal(403);
        expect((await rig.request(method, path, body !== undefined ? { body } : {})).status, `${method} ${path}`).to.equal(401);
      }
      expect((await call('PUT', '/api/tariffs/nope/', FIXED)).status).to.equal(404);
      expect((await call('POST', '/api/tariffs/nope/versions/', SECOND)).status).to.equal(404);
      expect((await call('DELETE', '/api/tariffs/nope/')).status).to.equal(404);
      expect((await call('PUT', '/api/meters/nope/tariff/', { tariff: 'tou' })).status).to.equal(404);
      expect((await call('GET', '/api/tariffs/')).body).to.deep.include({ default: 'tou', meters: { house: 'fixed', flat: 'tou' } });
    });

    it('the config file\'s tariffs, assignments and meters answer 409 naming the file', async () => {
      const file = `${rig.root}/meterhub.json`;
      const conflicts: Array<[string, string, unknown?]> = [
        ['POST', '/api/tariffs/', FIXED], ['PUT', '/api/tariffs/fixed/', FIXED], ['DELETE', '/api/tariffs/fixed/'],
        ['POST', '/api/tariffs/fixed/versions/', { ...SECOND, validFrom: '2027-01-01' }], ['PUT', '/api/meters/house/tariff/', { tariff: 'tou' }], ['DELETE', '/api/meters/house/tariff/'],
        ['PATCH', '/api/meters/house/', { name: 'House' }], ['DELETE', '/api/meters/house/'],
      ];
      for (const [method, path, body] of conflicts) {
        const r = await call(method, path, body);
        expect(r.status, `${method} ${path} ${JSON.stringify(r.body)}`).to.equal(409);
        expect(r.body.error.message).to.include(`the config file ${file}`);
      }
      expect((await call('GET', '/api/meters/house/tariff/')).body.id).to.equal('fixed');
    });

    it('a tariff in use cannot be deleted; replaced, unassigned and deleted it is gone, and so are its costs', async () => {
      const inUse = await call('DELETE', '/api/tariffs/tou/');
      expect(inUse.status).to.equal(409);
      expect(inUse.body.error.message).to.equal('tariff "tou" is assigned to meter "flat" and the default; assign another tariff first');

      // Replacing changes past days too (unlike adding a period): one flat price from the start.
      const flatPrice = { ...TOU, versions: [{ ...FIRST, windows: [{ from: '00:00', to: '24:00', pricePerKWh: 0.5 }] }] };
      const replaced = await call('PUT', '/api/tariffs/tou/', { ...flatPrice, id: undefined });
      expect(replaced.status, JSON.stringify(replaced.body)).to.equal(200);
      const [day] = await days('flat', '2026-05-19', '2026-05-20');
      expect(day!.cost!['importCost']).to.equal(expectedCost(flatPrice, tuesday, ...berlinDay('2026-05-19')).importCost);

      expect((await call('DELETE', '/api/meters/flat/tariff/')).status).to.equal(204);
      // Without its own, the meter pays the default.
      expect((await call('GET', '/api/meters/flat/tariff/')).body.id).to.equal('tou');
      expect((await call('PATCH', '/api/tariffs/', { default: null })).body).to.not.have.property('default');
      expect((await call('GET', '/api/meters/flat/tariff/')).status).to.equal(404);
      expect((await call('DELETE', '/api/tariffs/tou/')).status).to.equal(204);
      expect((await call('GET', '/api/tariffs/tou/')).status).to.equal(404);
      expect((await days('flat', '2026-05-19', '2026-05-20'))[0]!.cost).to.equal(undefined);
    });

    it('a deleted meter takes its assignment along: a new meter with its id pays nothing until assigned', async () => {
      expect((await call('POST', '/api/tariffs/', { ...FIXED, id: 'spare' })).status).to.equal(201);
      expect((await call('POST', '/api/meters/', { id: 'shed' })).status).to.equal(201);
      expect((await call('PUT', '/api/meters/shed/tariff/', { tariff: 'spare' })).status).to.equal(200);
      expect((await call('DELETE', '/api/meters/shed/')).status).to.equal(204);
      expect((await call('GET', '/api/tariffs/')).body.meters).to.not.have.property('shed');
      expect((await call('POST', '/api/meters/', { id: 'shed' })).status).to.equal(201);
      expect((await call('GET', '/api/meters/shed/tariff/')).status).to.equal(404);
      expect((await call('DELETE', '/api/tariffs/spare/')).status).to.equal(204);
    });
  });
}
