import type { Reading } from '@meterhub/sdk';
import { expect } from 'chai';
import { runRollups, type RollupMode } from '../../src/storage/rollup-job.js';
import type { StorageService } from '../../src/storage/storage-service.js';
import { localToEpoch } from '../../src/storage/time-zones.js';
import { ENGINES, meterConfig, StorageHarness } from './storage-harness.js';

const SEC = 1000;
const MIN = 60_000;
const HOUR = 3_600_000;
const TZ = 'Europe/Berlin';
/** Two UTC days around Europe's spring DST change (2026-03-29 01:00 UTC). */
const FROM = Date.UTC(2026, 2, 28);
const TO = FROM + 48 * HOUR;

/**
 * Readings with what makes rollups hard: several readings per minute with
 * minutes only partly filled, values float32 cannot hold (float64 sums),
 * gaps of hours, a measurement present in only some rows, a counter that is
 * reset, and a second meter reading once a minute.
 */
function history(): Reading[] {
  const out: Reading[] = [];
  let counter = 5000;
  for (let t = FROM, i = 0; t < TO; t += 20 * SEC, i++) {
    const hourOfDay = Math.floor((t - FROM) / HOUR) % 24;
    if (hourOfDay >= 5 && hourOfDay < 9) continue; // a gap every morning
    if (i % 7 === 3 || i % 11 === 5) continue; // minutes with one or two of their three readings
    counter = t === FROM + 40 * HOUR ? 12 : counter + (i % 5) / 8; // the meter replaced: its counter starts again
    const values: Record<string, number> = { power: 1000 + (i % 13) / 3, voltageL1: 229 + (i % 9) * 0.1, importEnergy: counter };
    if (i % 2 === 0) values['exportEnergy'] = i / 10;
    out.push({ meterId: 'house', ts: t, values });
  }
  for (let t = FROM + 30 * SEC; t < TO; t += MIN) {
    const k = (t - FROM) / MIN;
    if (k >= 1500 && k < 1800) continue;
    out.push({ meterId: 'garage', ts: t, values: { power: (k % 97) * 1.5, importEnergy: 100 + k * 0.01 } });
  }
  return out;
}

/** Late history: a morning gap filled, corrected re-submissions, a counter reading just before stored ones. */
function late(): Reading[] {
  const out: Reading[] = [];
  for (let t = FROM + 24 * HOUR + 6 * HOUR; t < FROM + 24 * HOUR + 7 * HOUR; t += 30 * SEC) out.push({ meterId: 'house', ts: t, values: { power: 50 + (t / SEC) % 17, importEnergy: 9000 + (t - FROM) / HOUR } });
  for (let k = 100; k < 130; k++) out.push({ meterId: 'garage', ts: FROM + 30 * SEC + k * MIN, values: { power: 777.7 } });
  out.push({ meterId: 'garage', ts: FROM + 10 * HOUR + 5 * SEC, values: { importEnergy: 104 } });
  return out;
}

/** Every rollup row of both families, as comparable text: the bytes in hex. */
async function dump(s: StorageService): Promise<string[]> {
  const rows: string[] = [];
  for (const table of ['rollups_power', 'rollups_energy']) {
    const got = await s.knex(table).select('meter_ref', 'resolution', 'bucket', 'data').orderBy(['meter_ref', 'resolution', 'bucket']) as Array<{ meter_ref: number; resolution: number; bucket: number | string; data: Buffer }>;
    for (const r of got) rows.push(`${table} ${r.meter_ref} ${r.resolution} ${Number(r.bucket)} ${r.data.toString('hex')}`);
  }
  return rows;
}

for (const engine of ENGINES) {
  describe(`rollups by ranges on ${engine}`, function () {
    this.timeout(120_000);
    const sides: Array<{ h: StorageHarness; s: StorageService; mode: RollupMode }> = [];

    before(async () => {
      for (const mode of ['minutes', 'ranges'] as const) {
        const h = await StorageHarness.create(engine, `rollup_${mode}`);
        const s = await h.open();
        await s.syncConfigMeters([meterConfig('house'), meterConfig('garage')]);
        await s.ingestBatch(history());
        sides.push({ h, s, mode });
      }
    });
    after(async () => {
      for (const { h, s } of sides) {
        await s.close({ rollUp: false });
        await h.dispose();
      }
    });

    it('stores the same bytes as minute by minute: a backfill with gaps, partial minutes and a DST change, then late history into it', async () => {
      const done: number[][] = [];
      for (const { s, mode } of sides) {
        const first = await runRollups(s.store, mode);
        await s.ingestBatch(late());
        done.push([first, await runRollups(s.store, mode)]);
      }
      // Both did the same dirty minutes, thousands of them, then the late ones.
      expect(done[0]).to.deep.equal(done[1]);
      expect(done[0]![0]).to.be.greaterThan(4000);
      const [byMinutes, byRanges] = [await dump(sides[0]!.s), await dump(sides[1]!.s)];
      expect(byRanges.length).to.equal(byMinutes.length);
      expect(byRanges).to.deep.equal(byMinutes);
      // Rows of all three resolutions, over the whole range: not two empty tables.
      for (const res of [1, 2, 3]) expect(byRanges.filter((r) => r.split(' ')[2] === String(res)).length, `resolution ${res}`).to.be.greaterThan(3);
    });

    it('rolls a backfill up by ranges through the storage service: a few queries per range, with turns of the event loop between them', async () => {
      const { s } = sides[1]!;
      await s.refresh();
      // Every stored minute marked again, as a backfill leaves them.
      await s.knex.raw(`INSERT INTO rollup_dirty (meter_ref, minute) SELECT DISTINCT meter_ref, ts - (ts % 60000) FROM readings_power WHERE true ON CONFLICT DO NOTHING`);
      const dirty = Number(((await s.knex('rollup_dirty').count({ n: '*' })) as Array<{ n: number | string }>)[0]!.n);
      expect(dirty).to.be.greaterThan(4000);
      const before = await dump(s);
      const store = s.store as { raw: typeof s.store.raw };
      const raw = store.raw.bind(s.store);
      let reads = 0;
      store.raw = (...args) => {
        reads++;
        return raw(...args);
      };
      let turns = 0;
      let counting = true;
      const count = () => {
        turns++;
        if (counting) setImmediate(count);
      };
      setImmediate(count);
      try {
        expect(await s.refresh()).to.equal(dirty);
      } finally {
        counting = false;
        store.raw = raw;
      }
      // Minute by minute would be two reads per minute; the same rollups are stored again.
      expect(reads).to.be.lessThan(dirty / 20);
      expect(turns).to.be.at.least(2);
      expect(await dump(s)).to.deep.equal(before);
    });

    it('answers history from those rollups as the data says: hour means, local days of 23 hours across the DST change', async () => {
      const { s } = sides[1]!;
      const hour = FROM + 2 * HOUR;
      const raw = (await s.history('house', { family: 'power', from: hour, to: hour + HOUR, resolution: 'raw' })).points.map((p) => p.values['power']!);
      const [point] = (await s.history('house', { family: 'power', from: hour, to: hour + HOUR, resolution: '1h' })).points;
      expect(point!.min!['power']).to.equal(Math.min(...raw));
      expect(point!.max!['power']).to.equal(Math.max(...raw));
      expect(point!.values['power']).to.be.closeTo(raw.reduce((a, v) => a + v, 0) / raw.length, 1e-3);
      const dstDay = localToEpoch(2026, 3, 29, 0, TZ);
      const days = await s.history('garage', { family: 'energy', from: dstDay, to: localToEpoch(2026, 3, 30, 0, TZ), resolution: '1d', tz: TZ });
      expect(days.points.map((p) => p.ts)).to.deep.equal([dstDay]);
      // The garage counter rises 0.01 a minute, across its gap too: a 23-hour local day is 1380 minutes.
      expect(days.points[0]!.delta!['importEnergy']).to.be.closeTo(13.8, 0.011);
      for (const { s: other } of sides) {
        expect((await other.history('house', { family: 'energy', from: FROM, to: TO, resolution: '1d', tz: TZ })).points)
          .to.deep.equal((await s.history('house', { family: 'energy', from: FROM, to: TO, resolution: '1d', tz: TZ })).points);
      }
    });
  });
}
