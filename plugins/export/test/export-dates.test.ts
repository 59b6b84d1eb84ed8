import { expect } from 'chai';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { RestRig } from '../../rest/test/rest-rig.js';

const HOUR = 3_600_000;
/** 0.95 kWh per hour from 2026-10-01 00:00 to 2026-11-01 06:00 in Europe/Berlin. */
const START = Date.parse('2026-09-30T22:00:00Z');
const END = Date.parse('2026-11-01T05:00:00Z');

describe('export plugin: dates in the request\'s zone, partial periods, numbers, unknown parameters', function () {
  this.timeout(40000);
  let rig: RestRig;
  let token: string;
  const get = async (query: string) => {
    const res = await fetch(`${rig.base}/api/export/?${query}`, { headers: { authorization: `Bearer ${token}` } });
    return { res, body: Buffer.from(await res.arrayBuffer()) };
  };

  before(async () => {
    rig = await RestRig.start('sqlite');
    token = (await rig.login()).access;
    expect((await rig.request('POST', '/api/meters/', { token, body: { id: 'flat', driver: 'sdm230', bus: 'sim', unitId: 9, enabled: false } })).status).to.equal(201);
    const readings = Array.from({ length: (END - START) / HOUR + 1 }, (_, h) => ({ timestamp: START + h * HOUR, values: { importEnergy: 1000 + h * 0.95 } }));
    expect((await rig.request('POST', '/api/meters/flat/energy/', { token, body: readings })).status).to.equal(201);
  });
  after(() => rig.stop());

  it('reads date-only from/to as local midnights: a monthly table to 2026-11-01 in Berlin has no November row', async () => {
    const { res, body } = await get('meters=flat&family=energy&period=month&measurements=importEnergy&from=2026-10-01&to=2026-11-01&tz=Europe/Berlin');
    expect(res.status).to.equal(200);
    const rows = parse(body.toString('utf8'), { columns: true }) as Array<Record<string, string>>;
    expect(rows).to.have.length(1);
    expect(rows[0]).to.deep.include({ 'start (Europe/Berlin)': '2026-10-01T00:00:00+02:00', 'end (Europe/Berlin)': '2026-11-01T00:00:00+01:00', partial: 'false' });
    // 745 hours (the October DST change adds one); the first reading has no predecessor.
    expect(Number(rows[0]!['importEnergy (kWh)'])).to.equal(Number((744 * 0.95).toFixed(2)));
  });

  it('flags days the range or the data cover only in part, in CSV and xlsx', async () => {
    const query = 'meters=flat&family=energy&period=day&measurements=importEnergy&from=2026-10-31T12:00&to=2026-11-02&tz=Europe/Berlin';
    const csv = parse((await get(query)).body.toString('utf8'), { columns: true }) as Array<Record<string, string>>;
    expect(csv.map((r) => [r['start (Europe/Berlin)'], r['partial']])).to.deep.equal([
      ['2026-10-31T00:00:00+01:00', 'true'],
      ['2026-11-01T00:00:00+01:00', 'true'],
    ]);
    const whole = parse((await get('meters=flat&family=energy&period=day&measurements=importEnergy&from=2026-10-10&to=2026-10-12&tz=Europe/Berlin')).body.toString('utf8'), { columns: true }) as Array<Record<string, string>>;
    expect(whole.map((r) => r['partial'])).to.deep.equal(['false', 'false']);
    const book = new ExcelJS.Workbook();
    await book.xlsx.load((await get(`${query}&format=xlsx`)).body as unknown as ArrayBuffer);
    const sheet = book.worksheets[0]!;
    expect(sheet.getRow(1).getCell(3).value).to.equal('partial');
    expect(sheet.getRow(2).getCell(3).value).to.equal(true);
  });

  it('ignores query parameters it does not know, and still checks those it knows', async () => {
    const ok = await get(`meters=flat&family=energy&from=2026-10-10&to=2026-10-11&tz=Europe/Berlin&_=${Date.now()}`);
    expect(ok.res.status).to.equal(200);
    const bad = await get('meters=flat&family=volts&_=1');
    expect(bad.res.status).to.equal(400);
    expect(bad.body.toString()).to.include('family');
  });

  it('writes float32 values as the shortest decimal that reads back the same, in CSV and xlsx', async () => {
    const t0 = Date.parse('2026-10-05T10:00:00Z');
    const f32 = Math.fround(230.3873);
    expect(String(f32)).to.equal('230.38729858398438');
    expect((await rig.request('POST', '/api/meters/flat/power/', { token, body: { timestamp: t0, values: { voltageL1: f32, power: 1234.5 } } })).status).to.equal(201);
    const query = `meters=flat&measurements=voltageL1,power&from=${t0}&to=${t0 + 1}`;
    const text = (await get(query)).body.toString('utf8');
    expect(text.trim().split('\r\n')[1]).to.equal('2026-10-05T10:00:00Z,flat,230.3873,1234.5');
    const book = new ExcelJS.Workbook();
    await book.xlsx.load((await get(`${query}&format=xlsx`)).body as unknown as ArrayBuffer);
    expect(book.worksheets[0]!.getRow(2).getCell(2).value).to.equal(230.3873);
  });
});
