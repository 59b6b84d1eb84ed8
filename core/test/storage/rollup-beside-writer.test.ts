import type { Reading } from '@meterhub/sdk';
import { expect } from 'chai';
import type { StorageService } from '../../src/storage/storage-service.js';
import { builtinDriver } from '../../../test-support/builtin-drivers.js';
import { meterConfig, StorageHarness } from './storage-harness.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 4, 1);
/** Every value an SDM630 gives. */
const SDM630 = Object.fromEntries(builtinDriver('sdm630').registers.map((r, i) => [r.measurement.id, 100 + i]));

/** The mean power of one minute's rollup, as history answers it. */
async function minuteMean(s: StorageService, meter: string, minute: number): Promise<number | undefined> {
  const { points } = await s.history(meter, { family: 'power', from: minute, to: minute + MIN, resolution: '1m' });
  return points[0]?.values['power'];
}

async function marks(s: StorageService): Promise<Array<{ meter_ref: number; minute: number; claimed_at: number | null }>> {
  const rows = await s.knex('rollup_dirty').select('meter_ref', 'minute', 'claimed_at').orderBy(['meter_ref', 'minute']) as Array<{ meter_ref: number; minute: string; claimed_at: string | null }>;
  return rows.map((r) => ({ meter_ref: r.meter_ref, minute: Number(r.minute), claimed_at: r.claimed_at === null ? null : Number(r.claimed_at) }));
}

/**
 * On PostgreSQL the rollup job runs beside the ingest writer (several central
 * hosts write to one database, and a commit must not wait seconds for a
 * rollup batch): it claims the dirty marks it works on, a write to a claimed
 * minute makes it dirty again, and one host at a time runs a batch.
 */
describe('rollups beside the writer (PostgreSQL)', function () {
  this.timeout(120_000);
  let h: StorageHarness;
  const open: StorageService[] = [];

  beforeEach(async () => {
    h = await StorageHarness.create('postgres', 'rollup_beside');
  });

  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close({ rollUp: false })));
    await h.dispose();
  });

  async function host(): Promise<StorageService> {
    const s = await h.open();
    open.push(s);
    await s.syncConfigMeters(['a', 'b', 'c'].map(meterConfig));
    return s;
  }

  it('keeps a minute dirty when a reading lands in it after the rollup job claimed it, and rolls it up with that reading next time', async () => {
    const s = await host();
    await s.ingestBatch([{ meterId: 'a', ts: T0 + 1000, values: { power: 100 } }]);
    const claimed = await s.store.claimDirty(100);
    expect(claimed.map((m) => m.minute)).to.deep.equal([T0]);
    expect(claimed[0]!.claim).to.be.a('number');
    // Written while the job works on the minute: the claim no longer covers it.
    await s.ingestBatch([{ meterId: 'a', ts: T0 + 2000, values: { power: 300 } }]);
    await s.store.clearDirty(claimed);
    expect(await marks(s)).to.deep.equal([{ meter_ref: claimed[0]!.meterRef, minute: T0, claimed_at: null }]);
    await s.refresh();
    expect(await marks(s)).to.deep.equal([]);
    expect(await minuteMean(s, 'a', T0)).to.equal(200);
  });

  it('clears a claimed minute nobody wrote to since, and leaves minutes that start after `before` to a later run', async () => {
    const s = await host();
    await s.ingestBatch([0, 1, 2].map((k) => ({ meterId: 'b', ts: T0 + k * MIN + 5000, values: { power: 10 * (k + 1) } })));
    const early = await s.store.claimDirty(100, T0 + 2 * MIN);
    expect(early.map((m) => m.minute)).to.deep.equal([T0, T0 + MIN]);
    await s.store.clearDirty(early);
    expect((await marks(s)).map((m) => m.minute)).to.deep.equal([T0 + 2 * MIN]);
  });

  it('gives two hosts on one database disjoint claims, and claims again what a stopped host left claimed', async () => {
    const [s1, s2] = [await host(), await host()];
    const readings: Reading[] = [];
    for (const meterId of ['a', 'b', 'c']) for (let k = 0; k < 50; k++) readings.push({ meterId, ts: T0 + k * MIN, values: { power: k } });
    await s1.ingestBatch(readings);
    const [c1, c2] = await Promise.all([s1.store.claimDirty(80), s2.store.claimDirty(80)]);
    const key = (m: { meterRef: number; minute: number }) => `${m.meterRef}:${m.minute}`;
    const both = new Set([...c1, ...c2].map(key));
    expect(both.size).to.equal(c1.length + c2.length, 'no minute claimed twice');
    expect(both.size).to.equal(150);
    // Host 1 stops for good mid-run: its claims age past the stale limit and host 2 takes them.
    await s1.knex('rollup_dirty').whereIn(['meter_ref', 'minute'], c1.map((m) => [m.meterRef, m.minute])).update({ claimed_at: Date.now() - 11 * MIN });
    const again = await s2.store.claimDirty(1000);
    expect(again.map(key).sort()).to.deep.equal(c1.map(key).sort());
    await s2.store.clearDirty(c2);
    await s2.store.clearDirty(again);
    expect(await marks(s2)).to.deep.equal([]);
  });

  it('commits readings while a rollup batch of a backlog runs, and two hosts rolling up together leave every minute right', async () => {
    const [s1, s2] = [await host(), await host()];
    // A backlog: 3 SDM630s × 1500 minutes, a full reading every 5 s.
    const backlog: Reading[] = [];
    for (const meterId of ['a', 'b', 'c']) {
      for (let k = 0; k < 1500; k++) {
        for (let sec = 0; sec < 60; sec += 5) backlog.push({ meterId, ts: T0 + k * MIN + sec * 1000, values: { ...SDM630, power: k + sec } });
      }
    }
    for (let i = 0; i < backlog.length; i += 2000) await s1.ingestBatch(backlog.slice(i, i + 2000));
    const started = performance.now();
    const rollups = Promise.all([s1.refresh(), s2.refresh()]).then(() => performance.now() - started);
    // While the batches run, each host commits new readings.
    const commits: number[] = [];
    let k = 0;
    let running = true;
    void rollups.then(() => (running = false));
    while (running) {
      const t = performance.now();
      await Promise.all([s1, s2].map((s, i) => s.ingestBatch([{ meterId: i ? 'b' : 'a', ts: T0 + 2000 * MIN + k * 1000, values: { power: 1 } }])));
      commits.push(performance.now() - t);
      k++;
      await new Promise((r) => setTimeout(r, 20));
    }
    const rollupMs = await rollups;
    commits.sort((x, y) => x - y);
    const worst = commits.at(-1)!;
    // Meaningful only if the rollups took a while; on the writer's turn, a commit waited for a whole batch.
    expect(rollupMs, 'rollup time').to.be.greaterThan(500);
    expect(commits.length).to.be.greaterThan(10);
    expect(worst, `slowest commit of ${commits.length} during ${rollupMs.toFixed(0)} ms of rollups`).to.be.lessThan(Math.max(300, rollupMs / 4));
    await s1.refresh();
    expect(await marks(s1)).to.deep.equal([]);
    for (const [meter, minute] of [['a', 0], ['b', 517], ['c', 999]] as const) {
      expect(await minuteMean(s2, meter, T0 + minute * MIN), `${meter} minute ${minute}`).to.equal(minute + 27.5);
    }
  });
});
