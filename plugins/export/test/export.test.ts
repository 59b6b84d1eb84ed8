import { expect } from 'chai';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { RestRig } from '../../rest/test/rest-rig.js';

const T0 = Date.parse('2026-03-28T12:00:00Z');
const STEP = 10_000;
/** Two days at 10 s across the spring DST change in Europe/Berlin (2026-03-29 02:00 → 03:00). */
const N = 17_280;
const voltage = (i: number) => 230 + (i % 100) / 10;
const power = (i: number) => i * 1.5;
const energy = (i: number) => 1000 + i * 0.01;

describe('export plugin: /api/export/', function () {
  this.timeout(60000);
  let rig: RestRig;
  let token: string;

  const get = async (query: string, auth = token) => {
    const res = await fetch(`${rig.base}/api/export/?${query}`, { headers: auth ? { authorization: `Bearer ${auth}` } : {} });
    return { res, body: Buffer.from(await res.arrayBuffer()) };
  };

  before(async () => {
    rig = await RestRig.start('sqlite', { plugins: { export: { config: { pageSize: 500, maxRowsPerSheet: 5001 } } } });
    token = (await rig.login()).access;
    const created = await rig.request('POST', '/api/meters/', { token, body: { id: 'flat', name: 'Flat 2', driver: 'sdm230', bus: 'sim', unitId: 2, enabled: false } });
    expect(created.status).to.equal(201);
    for (let i = 0; i < N; i += 1000) {
      await Promise.all(Array.from({ length: Math.min(1000, N - i) }, (_, k) => {
        const j = i + k;
        return rig.host.storage!.ingest({ meterId: 'flat', ts: T0 + j * STEP, values: { voltageL1: voltage(j), power: power(j), importEnergy: energy(j) } });
      }));
    }
  });
  after(() => rig.stop());

  const range = `from=${new Date(T0).toISOString()}&to=${new Date(T0 + N * STEP).toISOString()}`;

  it('streams RFC 4180 CSV whose values and times parse back to what was stored', async () => {
    const { res, body } = await get(`format=csv&meters=flat&family=power&measurements=voltageL1,power&${range}&tz=Europe/Berlin`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.equal('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).to.equal('attachment; filename="meterhub-flat-power-2026-03-28-2026-03-30.csv"');
    const text = body.toString('utf8');
    expect(text.includes('\r\n')).to.equal(true);
    const rows = parse(text, { columns: true }) as Array<Record<string, string>>;
    expect(Object.keys(rows[0]!)).to.deep.equal(['time (Europe/Berlin)', 'meter', 'voltageL1 (V)', 'power (W)']);
    expect(rows).to.have.length(N);
    rows.forEach((row, i) => {
      expect(Date.parse(row['time (Europe/Berlin)']!)).to.equal(T0 + i * STEP);
      expect(row['meter']).to.equal('flat');
      expect(Number(row['voltageL1 (V)'])).to.equal(voltage(i));
      expect(Number(row['power (W)'])).to.equal(power(i));
    });
    // Local time with the offset that applied: winter time before the change, summer time after.
    expect(rows[0]!['time (Europe/Berlin)']).to.equal('2026-03-28T13:00:00+01:00');
    expect(rows.at(-1)!['time (Europe/Berlin)']).to.equal('2026-03-30T13:59:50+02:00');
  });

  it('writes semicolon CSV with comma decimals and a BOM for spreadsheets that expect them', async () => {
    const { res, body } = await get(`meters=flat&measurements=voltageL1&${range}&delimiter=;&decimal=,&bom=true&tz=UTC`);
    expect(res.status).to.equal(200);
    expect([...body.subarray(0, 3)]).to.deep.equal([0xef, 0xbb, 0xbf]);
    const lines = body.toString('utf8').slice(1).split('\r\n');
    expect(lines[0]).to.equal('time (UTC);meter;voltageL1 (V)');
    expect(lines[2]).to.equal('2026-03-28T12:00:10Z;flat;230,1');
    const rows = parse(body.toString('utf8').slice(1), { columns: true, delimiter: ';' }) as Array<Record<string, string>>;
    expect(rows).to.have.length(N);
    expect(Number(rows[57]!['voltageL1 (V)']!.replace(',', '.'))).to.equal(voltage(57));
  });

  it('writes xlsx with real dates and numbers, one meter per sheet with a frozen header, split at the row limit', async () => {
    const { res, body } = await get(`format=xlsx&meters=flat&measurements=voltageL1,power&${range}&tz=Europe/Berlin`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.equal('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(body as unknown as ArrayBuffer);
    // 17,280 rows at 5,000 per sheet (header included): four sheets.
    expect(book.worksheets.map((s) => s.name)).to.deep.equal(['flat Flat 2', 'flat Flat 2 (2)', 'flat Flat 2 (3)', 'flat Flat 2 (4)']);
    let i = 0;
    for (const sheet of book.worksheets) {
      expect(sheet.views[0]).to.include({ state: 'frozen', ySplit: 1 });
      expect(sheet.getRow(1).values).to.deep.equal([undefined, 'time (Europe/Berlin)', 'voltageL1 (V)', 'power (W)']);
      expect(sheet.rowCount).to.be.at.most(5001);
      sheet.eachRow((row, n) => {
        if (n === 1) return;
        const [, time, v, p] = row.values as unknown[];
        expect(time).to.be.instanceOf(Date);
        expect(row.getCell(1).numFmt).to.equal('yyyy-mm-dd hh:mm:ss');
        expect(v).to.be.a('number').and.equal(voltage(i));
        expect(p).to.be.a('number').and.equal(power(i));
        i++;
      });
    }
    expect(i).to.equal(N);
    // The wall-clock time in Berlin: 12:00 UTC on 28 March is 13:00 there.
    expect((book.worksheets[0]!.getRow(2).getCell(1).value as Date).toISOString()).to.equal('2026-03-28T13:00:00.000Z');
  });

  it('exports energy as consumption per local day from counter deltas', async () => {
    const { res, body } = await get(`meters=flat&family=energy&period=day&measurements=importEnergy&from=2026-03-29T00:00:00%2B01:00&to=2026-03-30T00:00:00%2B02:00&tz=Europe/Berlin`);
    expect(res.status).to.equal(200);
    const rows = parse(body.toString('utf8'), { columns: true }) as Array<Record<string, string>>;
    expect(rows).to.have.length(1);
    expect(rows[0]!['start (Europe/Berlin)']).to.equal('2026-03-29T00:00:00+01:00');
    expect(rows[0]!['end (Europe/Berlin)']).to.equal('2026-03-30T00:00:00+02:00');
    // The 23-hour day: 8280 readings at 10 s, 0.01 kWh each.
    expect(Number(rows[0]!['importEnergy (kWh)'])).to.be.closeTo(23 * 360 * 0.01, 1e-6);
  });

  it('refuses bad queries with the parameter at fault, and unauthenticated or unprivileged callers', async () => {
    const expectBad = async (query: string, path: string, message: RegExp) => {
      const { res, body } = await get(query);
      expect(res.status, query).to.equal(400);
      const error = JSON.parse(body.toString()).error;
      expect(error.code).to.equal('METERHUB_ERR_VALIDATION');
      const detail = error.details.find((d: { path: string }) => d.path === path);
      expect(detail, JSON.stringify(error.details)).to.not.equal(undefined);
      expect(detail.message).to.match(message);
    };
    await expectBad(`meters=flat&from=2026-03-30&to=2026-03-28`, '/from', /must be before to/);
    await expectBad(`meters=flat&from=2025-01-01&to=2026-01-01`, '/to', /at most 93 days at resolution=raw/);
    await expectBad(`meters=flat&measurements=volts&${range}`, '/measurements/0', /unknown measurement "volts"/);
    await expectBad(`meters=flat&measurements=importEnergy&${range}`, '/measurements/0', /family energy, not power/);
    await expectBad(`meters=flat,nope&${range}`, '/meters/1', /no meter "nope"/);
    await expectBad(`meters=flat&tz=Mars/Olympus&${range}`, '/tz', /unknown time zone/);
    await expectBad(`meters=flat&decimal=,&${range}`, '/decimal', /delimiter=;/);
    await expectBad(`meters=flat&format=pdf&${range}`, '/format', /must be equal to one of/);
    await expectBad(`meters=flat&period=day&${range}`, '/period', /family=energy/);
    const anonymous = await get(`meters=flat&${range}`, '');
    expect(anonymous.res.status).to.equal(401);
    const { key } = await rig.host.accounts!.keys.create('ingest only', ['ingest'], null);
    const res = await fetch(`${rig.base}/api/export/?meters=flat&${range}`, { headers: { 'x-api-key': key } });
    expect(res.status).to.equal(403);
    const post = await fetch(`${rig.base}/api/export/`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect(post.status).to.equal(405);
  });

  it('a client that disconnects mid-export stops the queries', async () => {
    // More rows than the loopback socket buffers hold (about 16 MB of CSV), on a meter of its own.
    const rows = 400_000;
    await rig.request('POST', '/api/meters/', { token, body: { id: 'big', driver: 'sdm230', bus: 'sim', unitId: 3, enabled: false } });
    for (let i = 0; i < rows; i += 5000) {
      await Promise.all(Array.from({ length: 5000 }, (_, k) => rig.host.storage!.ingest({ meterId: 'big', ts: T0 + (i + k) * 1000, values: { voltageL1: voltage(i + k), power: power(i + k) } })));
    }
    const before = rig.host.status().plugins.find((p) => p.id === 'export')!.details!;
    const controller = new AbortController();
    const res = await fetch(`${rig.base}/api/export/?meters=big&from=${T0}&to=${T0 + rows * 1000}`, { headers: { authorization: `Bearer ${token}` }, signal: controller.signal });
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(first.value!.byteLength).to.be.greaterThan(0);
    controller.abort();
    await rig.waitFor('the export to stop', () => {
      const d = rig.host.status().plugins.find((p) => p.id === 'export')!.details!;
      return d['active'] === 0 && d['aborted'] === Number(before['aborted']) + 1;
    });
    const after = rig.host.status().plugins.find((p) => p.id === 'export')!.details!;
    // It stopped long before reading everything (pages of 500 rows; the socket buffers hold some).
    expect(Number(after['rows']) - Number(before['rows'])).to.be.lessThan(rows / 2);
  });
});
