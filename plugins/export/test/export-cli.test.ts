import { expect } from 'chai';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { Host } from '../../../core/src/host.js';
import { createLogger } from '../../../core/src/logging/logger.js';
import { tempDataDir } from '../../../core/test/helpers/temp-data-dir.js';
import { runCli } from '../../../test-support/run-cli.js';

const T0 = Date.parse('2026-10-24T22:00:00Z');
const N = 3000;

const cli = (args: string[], cwd: string) => runCli(args, cwd);

describe('meterhub export', function () {
  this.timeout(60000);
  let dir: ReturnType<typeof tempDataDir>;

  before(async () => {
    dir = tempDataDir();
    const config = {
      dataDir: './data', http: { port: 0 },
      buses: [{ id: 'b', transport: 'modbus-tcp', host: '127.0.0.1', port: 1 }],
      meters: [{ id: 'shed', driver: 'sdm230', bus: 'b', unitId: 1, enabled: false }],
    };
    writeFileSync(join(dir.root, 'meterhub.json'), JSON.stringify(config));
    const host = new Host({ configPath: join(dir.root, 'meterhub.json'), cwd: dir.root, env: {}, logger: createLogger({ level: 'silent', pretty: false }) });
    await host.start();
    await Promise.all(Array.from({ length: N }, (_, i) => host.storage!.ingest({ meterId: 'shed', ts: T0 + i * 60_000, values: { voltageL1: 229 + i / 100, power: i } })));
    await host.stop();
  });
  after(() => dir.cleanup());

  it('writes the same CSV as the endpoint from the database, with a progress bar, named for its content', async () => {
    const r = await cli(['export', '--meters', 'shed', '--measurements', 'voltageL1,power', '--from', String(T0), '--to', String(T0 + N * 60_000), '--tz', 'Europe/London', '--progress'], dir.root);
    expect(r.code, r.stderr).to.equal(0);
    const file = join(dir.root, 'meterhub-shed-power-2026-10-24-2026-10-27.csv');
    expect(r.stderr).to.include('100%').and.include(`wrote 3,000 rows to ${file}`);
    expect(existsSync(`${file}.part`)).to.equal(false);
    const rows = parse(readFileSync(file, 'utf8'), { columns: true }) as Array<Record<string, string>>;
    expect(rows).to.have.length(N);
    rows.forEach((row, i) => {
      expect(Date.parse(row['time (Europe/London)']!)).to.equal(T0 + i * 60_000);
      expect(Number(row['voltageL1 (V)'])).to.equal(229 + i / 100);
      expect(Number(row['power (W)'])).to.equal(i);
    });
    // Summer time ends on 25 October 2026 at 01:00 UTC.
    expect(rows[0]!['time (Europe/London)']).to.equal('2026-10-24T23:00:00+01:00');
    expect(rows[180]!['time (Europe/London)']).to.equal('2026-10-25T01:00:00+00:00');
  });

  it('writes xlsx to the file given; a bad query exits 2 with the parameter at fault and leaves no file', async () => {
    const out = join(dir.root, 'shed.xlsx');
    const ok = await cli(['export', '--meters', 'shed', '--format', 'xlsx', '--from', String(T0), '--to', String(T0 + N * 60_000), '--out', out], dir.root);
    expect(ok.code, ok.stderr).to.equal(0);
    const book = new ExcelJS.Workbook();
    await book.xlsx.readFile(out);
    expect(book.worksheets.map((s) => s.name)).to.deep.equal(['shed']);
    expect(book.worksheets[0]!.rowCount).to.equal(N + 1);
    expect(book.worksheets[0]!.getRow(2).getCell(1).value).to.be.instanceOf(Date);

    const bad = await cli(['export', '--meters', 'shed', '--measurements', 'volts', '--out', join(dir.root, 'bad.csv')], dir.root);
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.include('/measurements/0').and.include('unknown measurement "volts"');
    expect(existsSync(join(dir.root, 'bad.csv'))).to.equal(false);
    expect(existsSync(join(dir.root, 'bad.csv.part'))).to.equal(false);
  });
});
