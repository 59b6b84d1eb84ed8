import { expect } from 'chai';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { RestRig } from '../../rest/test/rest-rig.js';
import { expectedCost, minuteReadings, TARIFFS } from '../../../test-support/tariff-fixtures.js';

const TOU = TARIFFS.list[0]!;
const at = (iso: string) => Date.parse(iso);

describe('export plugin: consumption tables with cost columns', function () {
  this.timeout(60000);
  let rig: RestRig;
  let token: string;
  // Friday 2026-05-29 to Monday 2026-06-01 in Berlin: weekdays, a weekend and the price change of 1 June, with feed-in.
  const readings = minuteReadings(at('2026-05-28T21:00:00Z'), at('2026-06-01T22:30:00Z'), true);
  const days = ['2026-05-29', '2026-05-30', '2026-05-31', '2026-06-01'];
  const bounds = (d: string) => [at(`${d}T00:00:00+02:00`), at(`${d}T00:00:00+02:00`) + 86_400_000] as const;

  before(async () => {
    rig = await RestRig.start('sqlite', { tariffs: TARIFFS });
    token = (await rig.login()).access;
    expect((await rig.request('POST', '/api/meters/', { token, body: { id: 'home' } })).status).to.equal(201);
    for (let i = 0; i < readings.length; i += 5000) {
      expect((await rig.request('POST', '/api/meters/home/energy/', { token, body: readings.slice(i, i + 5000) })).status).to.equal(201);
    }
  });
  after(() => rig.stop());

  const get = async (query: string) => {
    const res = await fetch(`${rig.base}/api/export/?${query}`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).to.equal(200);
    return Buffer.from(await res.arrayBuffer());
  };
  const query = 'meters=home&family=energy&period=day&measurements=importEnergy,exportEnergy&from=2026-05-29&to=2026-06-02&tz=Europe/Berlin';

  it('CSV: import cost, export credit, standing charge and net per day read back as computed from the raw readings', async () => {
    const rows = parse((await get(`format=csv&${query}`)).toString('utf8'), { columns: true }) as Array<Record<string, string>>;
    expect(Object.keys(rows[0]!)).to.deep.equal([
      'start (Europe/Berlin)', 'end (Europe/Berlin)', 'partial', 'meter', 'importEnergy (kWh)', 'exportEnergy (kWh)',
      'importCost (EUR)', 'exportCredit (EUR)', 'standingCharge (EUR)', 'net (EUR)',
    ]);
    expect(rows).to.have.length(4);
    rows.forEach((row, i) => {
      const expected = expectedCost(TOU, readings, ...bounds(days[i]!));
      expect(row['start (Europe/Berlin)']).to.equal(`${days[i]}T00:00:00+02:00`);
      // Money is written to the minor unit: two decimals, never float noise.
      expect(row['importCost (EUR)']).to.equal(expected.importCost.toFixed(2));
      expect(row['exportCredit (EUR)']).to.equal(expected.exportCredit.toFixed(2));
      expect(row['standingCharge (EUR)']).to.equal(expected.standingCharge.toFixed(2));
      expect(row['net (EUR)']).to.equal(expected.net.toFixed(2));
    });
    expect(rows.map((r) => r['standingCharge (EUR)'])).to.deep.equal(['0.50', '0.50', '0.50', '0.61']);
  });

  it('CSV with comma decimals and xlsx carry the same amounts', async () => {
    const semi = parse((await get(`format=csv&delimiter=;&decimal=,&${query}`)).toString('utf8'), { columns: true, delimiter: ';' }) as Array<Record<string, string>>;
    const book = new ExcelJS.Workbook();
    await book.xlsx.load((await get(`format=xlsx&${query}`)) as unknown as ArrayBuffer);
    const sheet = book.worksheets[0]!;
    expect(sheet.getRow(1).values).to.include('net (EUR)');
    days.forEach((d, i) => {
      const expected = expectedCost(TOU, readings, ...bounds(d));
      expect(semi[i]!['net (EUR)']).to.equal(expected.net.toFixed(2).replace('.', ','));
      const cells = sheet.getRow(i + 2).values as unknown[];
      expect(cells.slice(-4)).to.deep.equal([expected.importCost, expected.exportCredit, expected.standingCharge, expected.net]);
    });
  });
});
