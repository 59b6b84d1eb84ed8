import { expect } from 'chai';
import { createLogger } from '../../src/logging/logger.js';
import { ReadingPipeline } from '../../src/readings/reading-pipeline.js';
import { migrateLatest } from '../../src/storage/schema-migrations.js';
import type { StorageService } from '../../src/storage/storage-service.js';
import { localToEpoch } from '../../src/storage/time-zones.js';
import { ENGINES, meterConfig, StorageHarness } from './storage-harness.js';

const MIN = 60_000;
const HOUR = 3_600_000;

for (const engine of ENGINES) {
  describe(`storage on ${engine}`, function () {
    this.timeout(60000);
    let h: StorageHarness;
    let s: StorageService;

    beforeEach(async () => {
      h = await StorageHarness.create(engine, 'engines');
      s = await h.open();
      await s.syncConfigMeters([meterConfig('house'), meterConfig('garage')]);
    });
    afterEach(async () => {
      await s.close();
      await h.dispose();
    });

    it('migrates from empty, and a second migration applies nothing', async () => {
      expect(await migrateLatest(s.knex)).to.deep.equal([]);
      for (const table of ['meters', 'users', 'api_keys', 'readings_power', 'readings_energy', 'rollups_power', 'rollups_energy', 'measurement_codes']) {
        expect(await s.knex.schema.hasTable(table), table).to.equal(true);
      }
    });

    it('upserts config meters by their stable key', async () => {
      const before = await s.meters.byKey('house');
      await s.syncConfigMeters([{ ...meterConfig('house'), unitId: 9, name: 'Main' }]);
      const after = await s.meters.byKey('house');
      expect(after!.ref).to.equal(before!.ref);
      expect(after!.config).to.include({ unitId: 9, name: 'Main', driver: 'sdm630' });
      expect(after!.source).to.equal('config');
    });

    it('stores readings split into the power and energy families', async () => {
      const ts = Date.UTC(2026, 0, 10, 12, 0, 0);
      expect(await s.ingest({ meterId: 'house', ts, values: { voltageL1: 230.5, power: 1234.25, importEnergy: 100.125 } })).to.equal('stored');
      const power = await s.history('house', { family: 'power', from: ts, to: ts + 1, resolution: 'raw' });
      const energy = await s.history('house', { family: 'energy', from: ts, to: ts + 1, resolution: 'raw' });
      expect(power.points).to.deep.equal([{ ts, values: { voltageL1: 230.5, power: 1234.25 } }]);
      expect(energy.points).to.deep.equal([{ ts, values: { importEnergy: 100.125 } }]);
      // A value float32 cannot hold exactly keeps its full precision.
      await s.ingest({ meterId: 'garage', ts, values: { importEnergy: 123456.789012 } });
      expect((await s.history('garage', { family: 'energy', from: ts, to: ts + 1, resolution: 'raw' })).points[0]!.values['importEnergy']).to.equal(123456.789012);
    });

    it('is idempotent on (meter, timestamp): re-submission replaces values and merges new ones, no duplicate rows', async () => {
      const ts = Date.UTC(2026, 0, 10, 12, 0, 0);
      await s.ingest({ meterId: 'house', ts, values: { voltageL1: 230, power: 1000 } });
      await s.ingest({ meterId: 'house', ts, values: { voltageL1: 230, power: 1000 } });
      await s.ingest({ meterId: 'house', ts, values: { power: 1100, currentL1: 5 } });
      const rows = await s.knex('readings_power').count({ n: '*' }).first() as { n: number | string };
      expect(Number(rows.n)).to.equal(1);
      const [point] = (await s.history('house', { family: 'power', from: ts, to: ts + 1, resolution: 'raw' })).points;
      expect(point!.values).to.deep.equal({ voltageL1: 230, power: 1100, currentL1: 5 });
    });

    it('stores a batch in which a few readings already exist: new ones added, existing ones merged, both families, nothing lost', async () => {
      const t0 = Date.UTC(2026, 0, 11);
      // Stored before: three instants in the middle of the batch below, power only.
      await Promise.all([10, 20, 30].map((k) => s.ingest({ meterId: 'house', ts: t0 + k * 1000, values: { voltageL1: 200, currentL1: 1 } })));
      await Promise.all(Array.from({ length: 500 }, (_, k) => s.ingest({ meterId: 'house', ts: t0 + k * 1000, values: { voltageL1: 230 + (k % 5), importEnergy: 100 + k } })));
      for (const table of ['readings_power', 'readings_energy']) {
        const rows = await s.knex(table).count({ n: '*' }).first() as { n: number | string };
        expect(Number(rows.n), table).to.equal(500);
      }
      const power = (await s.history('house', { family: 'power', from: t0, to: t0 + 500_000, resolution: 'raw' })).points;
      expect(power).to.have.length(500);
      expect(power[20]!.values).to.deep.equal({ voltageL1: 230, currentL1: 1 });
      expect(power[21]!.values).to.deep.equal({ voltageL1: 231 });
      const energy = (await s.history('house', { family: 'energy', from: t0, to: t0 + 500_000, resolution: 'raw' })).points;
      expect(energy.map((p) => p.values['importEnergy'])).to.deep.equal(Array.from({ length: 500 }, (_, k) => 100 + k));
    });

    it('rolls up minutes, hours and days on known data, with a counter reset and across a DST change', async () => {
      // Europe/Berlin springs forward on 2026-03-29: that local day has 23 hours.
      const tz = 'Europe/Berlin';
      const dayStart = localToEpoch(2026, 3, 29, 0, tz);
      const nextDay = localToEpoch(2026, 3, 30, 0, tz);
      expect(nextDay - dayStart).to.equal(23 * HOUR);
      // Every 10 minutes for 25 h from local midnight: power alternates 1000/3000 W,
      // the counter rises 1/6 kWh per step; at 12:00 local the meter is replaced (counter back to 5).
      const reset = localToEpoch(2026, 3, 29, 12, tz);
      let counter = 1000;
      const readings = [];
      for (let t = dayStart; t < dayStart + 25 * HOUR; t += 10 * MIN) {
        counter = t === reset ? 5 : counter + 1 / 6;
        readings.push({ meterId: 'house', ts: t, values: { power: (t / (10 * MIN)) % 2 === 0 ? 1000 : 3000, importEnergy: counter } });
      }
      await Promise.all(readings.map((r) => s.ingest(r)));

      const hours = await s.history('house', { family: 'power', from: dayStart, to: dayStart + 2 * HOUR, resolution: '1h' });
      expect(hours.points).to.have.length(2);
      expect(hours.points[0]).to.deep.include({ ts: dayStart });
      expect(hours.points[0]!.values['power']).to.equal(2000);
      expect(hours.points[0]!.min!['power']).to.equal(1000);
      expect(hours.points[0]!.max!['power']).to.equal(3000);
      const minutes = await s.history('house', { family: 'power', from: dayStart, to: dayStart + 30 * MIN, resolution: '1m' });
      expect(minutes.points.map((p) => p.ts)).to.deep.equal([dayStart, dayStart + 10 * MIN, dayStart + 20 * MIN]);

      const energyHours = await s.history('house', { family: 'energy', from: dayStart, to: dayStart + 25 * HOUR, resolution: '1h' });
      for (const p of energyHours.points) expect(p.delta!['importEnergy']).to.be.at.least(0);

      const days = await s.consumption('house', { period: 'day', tz, from: dayStart, to: nextDay + HOUR });
      expect(days.map((d) => d.start)).to.deep.equal(['2026-03-29T00:00:00+01:00', '2026-03-30T00:00:00+02:00']);
      // 23 hours of 1 kWh each, less the step lost to the replacement (never negative), from the first sample on.
      const steps = 23 * 6 - 1;
      expect(days[0]!.values['importEnergy']).to.be.closeTo((steps - 1) / 6, 1e-6);
      // Over everything up to `to`: one step per reading after the first, less the replacement.
      const total = days.reduce((a, d) => a + (d.values['importEnergy'] ?? 0), 0);
      const before = readings.filter((r) => r.ts < nextDay + HOUR).length;
      expect(total).to.be.closeTo((before - 2) / 6, 1e-6);
    });

    it('sums consumption per local week (from Monday) and month', async () => {
      const tz = 'Europe/Berlin';
      // One reading per 6 hours from 2026-01-26 (a Monday) to 2026-02-09: the counter rises 1 kWh each time.
      const start = localToEpoch(2026, 1, 26, 0, tz);
      const readings = [];
      for (let i = 0; i <= 14 * 4; i++) readings.push({ meterId: 'garage', ts: start + i * 6 * HOUR, values: { importEnergy: 100 + i } });
      await Promise.all(readings.map((r) => s.ingest(r)));
      // From Thursday: only what lies in the range counts, and the week is partial.
      const weeks = await s.consumption('garage', { period: 'week', tz, from: start + 3 * 24 * HOUR, to: start + 14 * 24 * HOUR });
      expect(weeks.map((w) => [w.start, w.values['importEnergy'], w.partial])).to.deep.equal([
        ['2026-01-26T00:00:00+01:00', 16, true],
        // The week's last reading is Sunday 18:00: its last hours are not covered.
        ['2026-02-02T00:00:00+01:00', 28, true],
      ]);
      const months = await s.consumption('garage', { period: 'month', tz, from: start, to: localToEpoch(2026, 3, 1, 0, tz) });
      expect(months.map((m) => [m.start, m.values['importEnergy'], m.partial])).to.deep.equal([
        ['2026-01-01T00:00:00+01:00', 23, true], ['2026-02-01T00:00:00+01:00', 33, true],
      ]);
    });

    it('makes submitters wait when too much is pending, instead of growing memory', async () => {
      await s.close();
      s = await h.open({ ingest: { maxBatch: 10, maxDelayMs: 5, maxPending: 20 } });
      const t0 = Date.UTC(2026, 4, 1);
      let maxPending = 0;
      const watcher = setInterval(() => (maxPending = Math.max(maxPending, s.queue.pending)), 1);
      const outcomes = await Promise.all(Array.from({ length: 300 }, (_, i) => s.ingest({ meterId: 'house', ts: t0 + i, values: { power: i } })));
      clearInterval(watcher);
      expect(outcomes.every((o) => o === 'stored')).to.equal(true);
      expect(maxPending).to.be.at.most(20);
      expect((await s.history('house', { family: 'power', from: t0, to: t0 + 300, resolution: 'raw' })).points).to.have.length(300);
    });

    it('answers history at automatic resolution with about the requested number of points', async () => {
      const t0 = Date.UTC(2026, 1, 1);
      const readings = [];
      for (let i = 0; i < 48 * 6; i++) readings.push({ meterId: 'house', ts: t0 + i * 10 * MIN, values: { power: i } });
      await Promise.all(readings.map((r) => s.ingest(r)));
      const auto = await s.history('house', { family: 'power', from: t0, to: t0 + 48 * HOUR, resolution: 'auto', points: 24 });
      expect(auto.resolution).to.equal('1h');
      expect(auto.points).to.have.length(24);
      expect(auto.points[0]!.ts).to.equal(t0);
      expect(auto.points[0]!.values['power']).to.equal(5.5); // mean of 0..11 over the first 2 h
      const raw = await s.history('house', { family: 'power', from: t0, to: t0 + HOUR, resolution: 'auto', points: 1000 });
      expect(raw.resolution).to.equal('raw');
      expect(raw.points).to.have.length(6);
    });

    it('enforces retention per resolution after rolling up', async () => {
      const now = Date.UTC(2026, 5, 1);
      const old = now - 40 * 24 * HOUR;
      await s.ingest({ meterId: 'house', ts: old, values: { power: 500 } });
      await s.ingest({ meterId: 'house', ts: now - HOUR, values: { power: 700 } });
      const deleted = await s.retention(now);
      expect(deleted['power:raw']).to.equal(1);
      const raw = await s.history('house', { family: 'power', from: 0, to: now, resolution: 'raw' });
      expect(raw.points.map((p) => p.values['power'])).to.deep.equal([700]);
      const rollup = await s.history('house', { family: 'power', from: old - HOUR, to: old + HOUR, resolution: '1h' });
      expect(rollup.points[0]!.values['power']).to.equal(500);
    });

    it('answers the latest values from memory, and from the database after a restart', async () => {
      const ts = Date.UTC(2026, 0, 10, 12);
      const pipeline = new ReadingPipeline(createLogger({ level: 'silent' }), s.latestValues);
      pipeline.attach(s, true);
      pipeline.publish({ meterId: 'house', ts, values: { power: 42, importEnergy: 7 } });
      pipeline.publish({ meterId: 'house', ts: ts - 1000, values: { power: 41 } });
      await s.queue.flush();
      expect(s.latest('house', 'power')).to.deep.equal({ ts, values: { power: 42 } });
      await s.close();
      s = await h.open();
      expect(s.latest('house', 'power')).to.deep.equal({ ts, values: { power: 42 } });
      expect(s.latest('house', 'energy')).to.deep.equal({ ts, values: { importEnergy: 7 } });
    });
  });
}
