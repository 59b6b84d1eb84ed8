import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import pg from 'pg';
import { createDjangoTables, type DjangoFixture } from '../../../test-support/django-tables.js';
import { createTestDatabase, type TestDatabase } from '../../../test-support/postgres.js';
import { runCli } from '../../../test-support/run-cli.js';
import { expectCounts, expectedFrom, ImportTarget, pgUrl, restHistory, type Expected } from './import-rig.js';

const CLI = fileURLToPath(new URL('../../../packages/meterhub/bin/meterhub.js', import.meta.url));

describe('meterhub import sql (the old Django tables on PostgreSQL)', function () {
  this.timeout(240_000);
  let source: TestDatabase;
  let fixture: DjangoFixture;
  let expected: Expected;

  before(async () => {
    source = await createTestDatabase('import_src');
    fixture = await createDjangoTables(source.connection);
    expected = await expectedFrom(source.connection);
  });
  after(async () => source?.drop());

  it('imports with defaults alone: mapping reported, meters created with their old names, every value equal through the REST history', async () => {
    const target = await ImportTarget.create('import_dst');
    try {
      const r = await runCli(['import', 'sql', '--from', pgUrl(source)], target.dir.root);
      expect(r.code, r.stderr).to.equal(0);
      // The mapping, with the columns that match nothing and a suggestion where one is close.
      expect(r.stderr).to.include('drivers: 1: sdm230, 2: sdm630').and.include('voltage on three-phase meters (2) → voltageLnAvg');
      expect(r.stderr).to.match(/voltage\s+→ voltageL1/).and.match(/power_factor\s+→ powerFactor/).and.match(/import_energy\s+→ importEnergy/);
      expect(r.stderr).to.match(/temperature\s+→ not imported: matches no field or measurement\n/);
      expect(r.stderr).to.match(/reactivepower\s+→ not imported: .*did you mean "reactive_power"/);
      expect(r.stderr).to.match(/values\/s/);
      expect(r.stdout).to.include('created meter(s): 1, 2');
      expectCounts(r.stdout, expected);
      expect(expected.counts['1']).to.include({ duplicates: 5, empty: 3 });
      expect(r.stdout).to.match(/1: skipped 5: duplicate of an earlier row/).and.match(/1: skipped 3: no values/);

      const rig = await target.restHost();
      try {
        const { access } = await rig.login();
        const meters = (await rig.request('GET', '/api/meters/', { token: access })).body;
        const list = (Array.isArray(meters) ? meters : meters.results) as Array<{ id: string; name?: string; driver?: string }>;
        expect(list.find((m) => m.id === '2')?.driver).to.equal('sdm630');
        expect(list.find((m) => m.id === '1')?.name).to.equal('House');
        expect(list.find((m) => m.id === '2')?.name).to.equal('Heat pump');
        const to = fixture.from + fixture.minutes * 60_000;
        for (const [meter, families] of expected.history) {
          for (const family of ['power', 'energy'] as const) {
            const got = await restHistory(rig, access, meter, family, fixture.from, to);
            const want = families[family];
            expect(got.size, `${meter} ${family} points`).to.equal(want.size);
            for (const [ts, values] of want) expect(got.get(ts), `${meter} ${family} ${new Date(ts).toISOString()}`).to.deep.equal(values);
          }
        }
        // The gap stays a gap; the minutes on both sides of the spring DST change (01:00 UTC) are there.
        const gap = await restHistory(rig, access, '2', 'power', fixture.from + 10 * 3_600_000, fixture.from + 16 * 3_600_000);
        expect(gap.size).to.equal(0);
        const dst = Date.parse('2026-03-29T01:00:00Z');
        const around = await restHistory(rig, access, '1', 'power', dst - 120_000, dst + 120_000);
        expect([...around.keys()]).to.deep.equal([dst - 120_000, dst - 60_000, dst, dst + 60_000]);
      } finally {
        await rig.stop();
      }
    } finally {
      await target.drop();
    }
  });

  it('dry run prints the mapping and the counts, and writes nothing; --meter-map stores under the new id', async () => {
    const target = await ImportTarget.create('import_dry');
    try {
      const dry = await runCli(['import', 'sql', '--from', pgUrl(source), '--meter-map', '1=house', '--dry-run'], target.dir.root);
      expect(dry.code, dry.stderr).to.equal(0);
      expect(dry.stdout).to.match(/voltage\s+→ voltageL1/).and.include('meter map: 1 → house').and.include('would create meter(s): house, 2');
      expect(dry.stdout).to.match(/meter\s+read\s+would store/);
      expectCounts(dry.stdout, expected, { 1: 'house' });
      expect(await target.query('SELECT key FROM meters')).to.deep.equal([]);
      expect(existsSync(join(target.dir.dataDir, 'import')) ? readdirSync(join(target.dir.dataDir, 'import')) : []).to.deep.equal([]);

      const real = await runCli(['import', 'sql', '--from', pgUrl(source), '--meter-map', '1=house', '--table', 'meters_energyreading'], target.dir.root);
      expect(real.code, real.stderr).to.equal(0);
      const keys = (await target.query<{ key: string }>('SELECT key FROM meters ORDER BY key')).map((m) => m.key);
      expect(keys).to.deep.equal(['2', 'house']);
    } finally {
      await target.drop();
    }
  });

  it('names the option at fault: a table, a time column or a meter map that does not fit (exit 2)', async () => {
    const target = await ImportTarget.create('import_bad');
    try {
      const noTable = await runCli(['import', 'sql', '--from', pgUrl(source), '--table', 'meters_voltage'], target.dir.root);
      expect(noTable.code).to.equal(2);
      expect(noTable.stderr).to.match(/--table\s+no table "meters_voltage"/);
      const noTime = await runCli(['import', 'sql', '--from', pgUrl(source), '--time-column', 'ts'], target.dir.root);
      expect(noTime.code).to.equal(2);
      expect(noTime.stderr).to.match(/--time-column\s+table "meters_powerreading" has no column "ts"/);
      const badMap = await runCli(['import', 'sql', '--from', pgUrl(source), '--meter-map', 'house'], target.dir.root);
      expect(badMap.code).to.equal(2);
      expect(badMap.stderr).to.match(/--meter-map\s+"house" is not old=new/);
    } finally {
      await target.drop();
    }
  });

  it('resumes an import killed midway from its checkpoint, with exact final counts; a full re-run changes nothing', async () => {
    const target = await ImportTarget.create('import_resume');
    try {
      // Small pages and a kill at the first progress line: the import must still be running then, even on an idle machine.
      const args = ['import', 'sql', '--from', pgUrl(source), '--page-size', '100', '--progress-interval', '0'];
      const child = spawn(process.execPath, [CLI, ...args], { cwd: target.dir.root, env: { PATH: process.env['PATH'] } });
      let progressLines = 0;
      const killed = new Promise<void>((resolve) => {
        child.stderr.on('data', (d: Buffer) => {
          progressLines += (d.toString().match(/ rows /g) ?? []).length;
          if (progressLines >= 1 && child.exitCode === null) child.kill('SIGKILL');
        });
        child.on('exit', () => resolve());
      });
      await killed;
      expect(child.signalCode, 'the import ended before it could be interrupted').to.equal('SIGKILL');
      const partial = Number((await target.query<{ n: string }>('SELECT count(*) AS n FROM readings_power'))[0]!.n);
      const total = Object.values(expected.counts).reduce((a, c) => a + c.stored, 0);
      expect(partial).to.be.greaterThan(0).and.lessThan(total);

      const resumed = await runCli(args, target.dir.root);
      expect(resumed.code, resumed.stderr).to.equal(0);
      expectCounts(resumed.stdout, expected);
      // This run read only what was left.
      const thisRun = Number(/^([\d,]+) values in/m.exec(resumed.stdout)![1]!.replace(/,/g, ''));
      const all = [...expected.history.values()].reduce((a, f) => a + [...f.power.values(), ...f.energy.values()].reduce((b, v) => b + Object.keys(v).length, 0), 0);
      expect(thisRun).to.be.lessThan(all);

      const rows = async () => (await target.query<{ n: string }>(`SELECT (SELECT count(*) FROM readings_power) + (SELECT count(*) FROM readings_energy) AS n`))[0]!.n;
      const stored = await rows();
      expect(Number(stored)).to.equal(total);
      const again = await runCli(args, target.dir.root);
      expect(again.stderr).to.include('already imported');
      expectCounts(again.stdout, expected);
      const restart = await runCli([...args, '--restart'], target.dir.root);
      expect(restart.code, restart.stderr).to.equal(0);
      expectCounts(restart.stdout, expected);
      expect(await rows()).to.equal(stored);
    } finally {
      await target.drop();
    }
  });

  it('any readings table: --table, --meter-column, --time-column, --column-map, local times with --tz; meter keys that are not ids are skipped until mapped', async () => {
    const db = await createTestDatabase('import_local');
    const target = await ImportTarget.create('import_local_dst');
    try {
      const c = new pg.Client(db.connection);
      await c.connect();
      await c.query(`CREATE TABLE local_readings (meter text NOT NULL, ts timestamp without time zone NOT NULL, power real, volt numeric(6, 2));
        INSERT INTO local_readings VALUES ('garage', '2026-03-29 01:30', 812.5, 229.5), ('garage', '2026-03-29 03:30', 790, 230.25), ('Garage 2', '2026-07-01 12:00', 10, 231)`);
      await c.end();
      const args = ['import', 'sql', '--from', pgUrl(db), '--table', 'local_readings', '--meter-column', 'meter', '--time-column', 'ts', '--tz', 'Europe/Berlin', '--column-map', 'volt=voltageL1'];
      const r = await runCli(args, target.dir.root);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stderr, r.stderr).to.match(/volt\s+→ voltageL1  \(--column-map\)/);
      expect(r.stdout).to.include('Garage 2: skipped 1: the meter key is not a meter id');
      expect(r.stdout).to.match(/\ngarage\s+2\s+2\s+4\s+0\n/);
      const mapped = await runCli([...args, '--meter-map', 'Garage 2=garage-2', '--restart'], target.dir.root);
      expect(mapped.code, mapped.stderr).to.equal(0);
      expect(mapped.stdout).to.include('created meter(s): garage-2');
      const rows = await target.query<{ key: string; ts: string }>(`SELECT m.key, r.ts::text AS ts FROM readings_power r JOIN meters m ON m.ref = r.meter_ref ORDER BY r.ts`);
      expect(rows.map((x) => [x.key, Number(x.ts)])).to.deep.equal([
        ['garage', Date.parse('2026-03-29T00:30:00Z')], ['garage', Date.parse('2026-03-29T01:30:00Z')], ['garage-2', Date.parse('2026-07-01T10:00:00Z')],
      ]);
    } finally {
      await db.drop();
      await target.drop();
    }
  });
});
