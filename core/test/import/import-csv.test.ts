import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { expect } from 'chai';
import { createDjangoTables } from '../../../test-support/django-tables.js';
import { createTestDatabase, type TestDatabase } from '../../../test-support/postgres.js';
import { runCli } from '../../../test-support/run-cli.js';
import { createLogger } from '../../src/logging/logger.js';
import { StorageService } from '../../src/storage/storage-service.js';
import { ImportTarget, pgUrl, restHistory } from './import-rig.js';

const CLI = fileURLToPath(new URL('../../../packages/meterhub/bin/meterhub.js', import.meta.url));

type Histories = Map<string, Map<number, Record<string, number>>>;

async function allHistory(target: ImportTarget, meters: readonly string[], from: number, to: number): Promise<Histories> {
  const rig = await target.restHost();
  try {
    const { access } = await rig.login();
    const out: Histories = new Map();
    for (const m of meters) for (const f of ['power', 'energy'] as const) out.set(`${m} ${f}`, await restHistory(rig, access, m, f, from, to));
    return out;
  } finally {
    await rig.stop();
  }
}

async function openStorage(target: ImportTarget): Promise<StorageService> {
  return StorageService.open({
    target: target.storageTarget, dataDir: target.dir.dataDir, spoolMaxRows: 1000, rollupIntervalMs: 60000,
    retention: { rawDays: null, minuteDays: null, hourDays: null, dayDays: null }, ingest: { maxBatch: 2000, maxDelayMs: 5, maxPending: 50000 },
  }, createLogger({ level: 'silent', pretty: false }));
}

describe('meterhub import csv', function () {
  this.timeout(240_000);

  it('round trip: export of a host → import into a fresh host → identical history (wide CSV, both delimiters and decimal marks)', async () => {
    const source: TestDatabase = await createTestDatabase('csv_src');
    const a = await ImportTarget.create('csv_a');
    const b = await ImportTarget.create('csv_b');
    try {
      const fixture = await createDjangoTables(source.connection, { from: '2026-03-28T12:00:00Z', minutes: 1440 });
      const to = fixture.from + fixture.minutes * 60_000;
      // The export's columns come from the meter's driver, taken from the old meters table's model column.
      expect((await runCli(['import', 'sql', '--from', pgUrl(source)], a.dir.root)).code).to.equal(0);
      await a.query('DELETE FROM rollup_dirty');
      const range = ['--meters', '1,2', '--from', new Date(fixture.from).toISOString(), '--to', new Date(to).toISOString()];
      const power = join(a.dir.root, 'power.csv');
      const energy = join(a.dir.root, 'energy.csv');
      const e1 = await runCli(['export', ...range, '--family', 'power', '--tz', 'Europe/Berlin', '--delimiter', ';', '--decimal', ',', '--out', power], a.dir.root);
      expect(e1.code, e1.stderr).to.equal(0);
      const e2 = await runCli(['export', ...range, '--family', 'energy', '--out', energy], a.dir.root);
      expect(e2.code, e2.stderr).to.equal(0);

      for (const file of [power, energy]) {
        const r = await runCli(['import', 'csv', file], b.dir.root);
        expect(r.code, r.stderr).to.equal(0);
        expect(r.stderr).to.match(/source: .*time column "time \((Europe\/Berlin|UTC)\)"/);
        expect(r.stdout, r.stdout + r.stderr).to.match(/skipped/);
      }
      expect((await runCli(['import', 'csv', power], b.dir.root)).stderr).to.include('already imported');
      const before = await allHistory(a, ['1', '2'], fixture.from, to);
      const after = await allHistory(b, ['1', '2'], fixture.from, to);
      expect([...before.values()].every((h) => h.size > 1000)).to.equal(true);
      for (const [key, h] of before) expect(after.get(key), key).to.deep.equal(h);
    } finally {
      await source.drop();
      await a.drop();
      await b.drop();
    }
  });

  it('generic CSV into SQLite: ";" and decimal comma detected, local times over the autumn DST change, bad cells counted, --meter names the meter', async () => {
    const target = await ImportTarget.create('csv_generic', 'sqlite');
    try {
      // 00:00 to 04:00 local every 15 minutes: 02:00–02:45 happen twice (summer time, then winter time).
      const lines = ['Zeitstempel;voltage;power;Temperatur'];
      const walls: string[] = [];
      for (let h = 0; h <= 3; h++) for (const m of [0, 15, 30, 45]) walls.push(`2026-10-25 ${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:00`);
      walls.splice(12, 0, ...walls.slice(8, 12));
      walls.forEach((w, i) => lines.push(`${w};${230 + i},5;${i === 3 ? 'n/a' : i === 4 ? '' : `${i * 10},25`};${i}`));
      lines.push('gestern;231,0;5,0;1');
      const file = join(target.dir.root, 'garage.csv');
      writeFileSync(file, `${lines.join('\r\n')}\r\n`);
      const r = await runCli(['import', 'csv', file, '--meter', 'garage', '--tz', 'Europe/Berlin', '--time-column', 'Zeitstempel'], target.dir.root);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stderr).to.include('delimiter ";"').and.match(/Temperatur\s+→ not imported/);
      expect(r.stdout).to.include('created meter(s): garage');
      expect(r.stdout, r.stdout).to.match(/garage\s+21\s+20\s+38\s+1\n/);
      expect(r.stdout).to.include('skipped 1: time missing or not a time').and.include('1 value(s) not a number, left out');
      const storage = await openStorage(target);
      try {
        const h = await storage.history('garage', { family: 'power', from: Date.parse('2026-10-24T00:00:00Z'), to: Date.parse('2026-10-26T00:00:00Z'), resolution: 'raw' });
        const start = Date.parse('2026-10-24T22:00:00Z');
        // 20 readings, 15 minutes apart in UTC: the repeated hour is not folded onto the first one.
        expect(h.points.map((p) => p.ts)).to.deep.equal(Array.from({ length: 20 }, (_, i) => start + i * 900_000));
        expect(h.points[0]!.values).to.deep.equal({ voltageL1: 230.5, power: 0.25 });
        expect(h.points[3]!.values).to.deep.equal({ voltageL1: 233.5 });
        expect(h.points[12]!.values).to.deep.equal({ voltageL1: 242.5, power: 120.25 });
      } finally {
        await storage.close({ rollUp: false });
      }
    } finally {
      await target.drop();
    }
  });

  it('long CSV (time, meter, measurement, value) and Home Assistant\'s history: rows of one time become one reading', async () => {
    const target = await ImportTarget.create('csv_long');
    try {
      const file = join(target.dir.root, 'long.csv');
      writeFileSync(file, ['time,meter,measurement,value', '2026-05-01T10:00:00Z,pv,power,-1500', '2026-05-01T10:00:00Z,pv,voltage,231.5', '2026-05-01T10:00:00Z,pv,import_energy,12.5',
        '2026-05-01T10:01:00Z,pv,power,-1490', '2026-05-01T10:01:00Z,pv,humidity,40', ''].join('\n'));
      const r = await runCli(['import', 'csv', file], target.dir.root);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.match(/pv\s+2\s+2\s+4\s+0/);
      expect(r.stderr).to.match(/not imported:\n  humidity\s+→ not imported: matches no field or measurement/);
      const storage = await openStorage(target);
      try {
        const range = { from: Date.parse('2026-05-01T00:00:00Z'), to: Date.parse('2026-05-02T00:00:00Z'), resolution: 'raw' as const };
        expect((await storage.history('pv', { family: 'power', ...range })).points).to.deep.equal([
          { ts: Date.parse('2026-05-01T10:00:00Z'), values: { power: -1500, voltageL1: 231.5 } },
          { ts: Date.parse('2026-05-01T10:01:00Z'), values: { power: -1490 } },
        ]);
        expect((await storage.history('pv', { family: 'energy', ...range })).points).to.deep.equal([{ ts: Date.parse('2026-05-01T10:00:00Z'), values: { importEnergy: 12.5 } }]);
        // Home Assistant's history download: one entity per row, named with --column-map, no meter column.
        await storage.close({ rollUp: false });
        const ha = join(target.dir.root, 'history.csv');
        writeFileSync(ha, ['entity_id,state,last_changed', 'sensor.house_power,812.5,2026-05-01T10:00:00.000Z', 'sensor.house_voltage,229.8,2026-05-01T10:00:00.000Z',
          'sensor.house_power,unavailable,2026-05-01T10:00:30.000Z', 'sensor.house_power,790,2026-05-01T10:01:00.000Z', ''].join('\n'));
        const h = await runCli(['import', 'csv', ha, '--meter', 'house', '--column-map', 'sensor.house_power=power', '--column-map', 'sensor.house_voltage=voltageL1'], target.dir.root);
        expect(h.code, h.stderr).to.equal(0);
        expect(h.stdout).to.match(/house\s+3\s+2\s+3\s+1\n/).and.include('house: 1 value(s) not a number, left out');
        const bad = await runCli(['import', 'csv', ha, '--meter', 'house', '--column-map', 'sensor.house_power=pwer'], target.dir.root);
        expect(bad.code).to.equal(2);
        expect(bad.stderr).to.match(/--column-map\s+"pwer" is not a measurement\s+\(did you mean "power"/);
        // InfluxDB 2's annotated CSV: annotation lines, then one table per field, each with its header.
        const influx = join(target.dir.root, 'influx.csv');
        writeFileSync(influx, ['#group,false,false,true,true,false,false,true,true,true', '#datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,dateTime:RFC3339,double,string,string,string',
          '#default,_result,,,,,,,,', ',result,table,_start,_stop,_time,_value,_field,_measurement,meter',
          ',,0,2026-05-01T00:00:00Z,2026-05-02T00:00:00Z,2026-05-01T11:00:00Z,230.5,voltage,electricity,flat',
          ',,0,2026-05-01T00:00:00Z,2026-05-02T00:00:00Z,2026-05-01T11:01:00Z,230.75,voltage,electricity,flat', '',
          ',result,table,_start,_stop,_time,_value,_field,_measurement,meter',
          ',,1,2026-05-01T00:00:00Z,2026-05-02T00:00:00Z,2026-05-01T11:00:00Z,410,power,electricity,flat', ''].join('\r\n'));
        const ix = await runCli(['import', 'csv', influx], target.dir.root);
        expect(ix.code, ix.stderr).to.equal(0);
        expect(ix.stdout, ix.stdout).to.match(/flat\s+3\s+2\s+3\s+0\n/).and.include('flat: 1 row(s) merged into the reading of the same time');
        const again = await openStorage(target);
        expect((await again.history('flat', { family: 'power', ...range })).points).to.deep.equal([
          { ts: Date.parse('2026-05-01T11:00:00Z'), values: { voltageL1: 230.5, power: 410 } },
          { ts: Date.parse('2026-05-01T11:01:00Z'), values: { voltageL1: 230.75 } },
        ]);
        expect((await again.history('house', { family: 'power', ...range })).points).to.deep.equal([
          { ts: Date.parse('2026-05-01T10:00:00Z'), values: { power: 812.5, voltageL1: 229.8 } },
          { ts: Date.parse('2026-05-01T10:01:00Z'), values: { power: 790 } },
        ]);
        await again.close({ rollUp: false });
      } finally {
        await storage.close({ rollUp: false });
      }
    } finally {
      await target.drop();
    }
  });

  it('resumes a CSV import into SQLite killed midway: exact counts, every row stored once', async () => {
    const target = await ImportTarget.create('csv_resume', 'sqlite');
    try {
      const t0 = Date.parse('2026-06-01T00:00:00Z');
      const rows = 12_000;
      const lines = ['time,meter,power,voltage'];
      for (let i = 0; i < rows; i++) lines.push(`${new Date(t0 + i * 60_000).toISOString()},${i % 2 ? 'a' : 'b'},${i},${230 + (i % 10)}`);
      const file = join(target.dir.root, 'big.csv');
      writeFileSync(file, `${lines.join('\n')}\n`);
      // Small pages and a kill at the first progress line: the import must still be running then, even on an idle machine.
      const args = ['import', 'csv', file, '--page-size', '100', '--progress-interval', '0'];
      const child = spawn(process.execPath, [CLI, ...args], { cwd: target.dir.root, env: { PATH: process.env['PATH'] } });
      let progress = 0;
      await new Promise<void>((resolve) => {
        child.stderr.on('data', (d: Buffer) => {
          progress += (d.toString().match(/ rows /g) ?? []).length;
          if (progress >= 1 && child.exitCode === null) child.kill('SIGKILL');
        });
        child.on('exit', () => resolve());
      });
      expect(child.signalCode, 'the import ended before it could be interrupted').to.equal('SIGKILL');
      const r = await runCli(args, target.dir.root);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.match(/\na\s+6,000\s+6,000\s+12,000\s+0\n/).and.match(/\nb\s+6,000\s+6,000\s+12,000\s+0\n/);
      const thisRun = Number(/^([\d,]+) values in/m.exec(r.stdout)![1]!.replace(/,/g, ''));
      expect(thisRun).to.be.lessThan(rows * 2);
      expect(Number((await target.query<{ n: string | number }>('SELECT count(*) AS n FROM readings_power'))[0]!.n)).to.equal(rows);
    } finally {
      await target.drop();
    }
  });
});
