import { expect } from 'chai';
import type { MeterStateEvent, Reading } from '@meterhub/sdk';
import { createLogger } from '../../src/logging/logger.js';
import { MeterStateFeed } from '../../src/readings/meter-state-feed.js';
import { PushedMeterStates } from '../../src/readings/pushed-meter-states.js';
import { ReadingPipeline } from '../../src/readings/reading-pipeline.js';
import type { StorageService } from '../../src/storage/storage-service.js';
import { meterConfig, StorageHarness } from '../storage/storage-harness.js';

describe('reading pipeline: one door for every source', () => {
  let h: StorageHarness;
  let s: StorageService;
  let pipeline: ReadingPipeline;
  const seen: Reading[] = [];

  beforeEach(async () => {
    h = await StorageHarness.create('sqlite', 'pipeline');
    s = await h.open();
    await s.syncConfigMeters([meterConfig('house')]);
    pipeline = new ReadingPipeline(createLogger({ level: 'silent' }), s.latestValues);
    pipeline.attach(s, true);
    seen.length = 0;
    pipeline.subscribe((r) => seen.push(r));
  });
  afterEach(async () => {
    await s.close();
    await h.dispose();
  });

  it('splits values by family once, publishes with the source, stores, and answers latest per family', async () => {
    const ts = Date.UTC(2026, 2, 1);
    pipeline.publish({ meterId: 'house', ts, values: { power: 500, importEnergy: 12.5 } });
    const { stored } = await pipeline.submit([{ meterId: 'house', ts: ts + 1000, values: { power: 510 } }], 'push');
    expect(stored).to.equal(1);
    expect(seen.map((r) => [r.source, r.replay ?? false])).to.deep.equal([['poll', false], ['push', false]]);
    expect(s.latest('house', 'power')).to.deep.equal({ ts: ts + 1000, values: { power: 510 } });
    expect(s.latest('house', 'energy')).to.deep.equal({ ts, values: { importEnergy: 12.5 } });
    const raw = await s.history('house', { family: 'power', from: ts, to: ts + 2000, resolution: 'raw' });
    expect(raw.points.map((p) => p.values['power'])).to.deep.equal([500, 510]);
  });

  it('an older reading is stored and published as a replay; latest does not move back', async () => {
    const ts = Date.UTC(2026, 2, 1);
    await pipeline.submit({ meterId: 'house', ts, values: { power: 1 } }, 'uplink');
    await pipeline.submit([{ meterId: 'house', ts: ts - 60_000, values: { power: 0.5 } }], 'uplink');
    expect(seen.map((r) => r.replay ?? false)).to.deep.equal([false, true]);
    expect(pipeline.replays).to.equal(1);
    expect(s.latest('house', 'power')!.values).to.deep.equal({ power: 1 });
    const raw = await s.history('house', { family: 'power', from: ts - 120_000, to: ts + 1, resolution: 'raw' });
    expect(raw.points).to.have.length(2);
  });

  it('refuses a batch naming an unknown meter before taking any of it', async () => {
    const ts = Date.UTC(2026, 2, 1);
    const err = await pipeline.submit([{ meterId: 'house', ts, values: { power: 1 } }, { meterId: 'nope', ts, values: { power: 1 } }], 'push').catch((e: unknown) => e);
    expect(err).to.have.property('code', 'METERHUB_ERR_HTTP_NOT_FOUND');
    expect(seen).to.have.length(0);
    expect(s.latest('house', 'power')).to.equal(undefined);
  });
});

describe('pushed meter states', () => {
  it('online on a fresh reading, stale after the silence, online again; an old reading does not make it online', async () => {
    const pipeline = new ReadingPipeline(createLogger({ level: 'silent' }));
    const feed = new MeterStateFeed((id) => pipeline.latest.newestTs(id));
    const events: MeterStateEvent[] = [];
    feed.subscribe((e) => events.push(e));
    const states = new PushedMeterStates(feed, pipeline.latest, 300_000);
    pipeline.onArrival = (r) => states.note(r);
    try {
      states.setMeters([{ id: 'garage', enabled: true, requestMode: 'coalesce', intervals: { instantMs: 1000, counterMs: 60000 }, staleAfterMs: 150 }]);
      expect(feed.get('garage')).to.include({ state: 'unknown', lastSeen: null });
      pipeline.publish({ meterId: 'garage', ts: Date.now() - 3_600_000, values: { power: 1 } }, 'uplink');
      expect(feed.get('garage')!.state).to.equal('stale');
      pipeline.publish({ meterId: 'garage', ts: Date.now(), values: { power: 2 } }, 'push');
      expect(feed.get('garage')!.state).to.equal('online');
      const deadline = Date.now() + 3000;
      while (feed.get('garage')!.state !== 'stale' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(feed.get('garage')!.state).to.equal('stale');
      pipeline.publish({ meterId: 'garage', ts: Date.now(), values: { power: 3 } }, 'push');
      expect(events.map((e) => e.state)).to.deep.equal(['unknown', 'stale', 'online', 'stale', 'online']);
      expect(Date.parse(events.at(-1)!.lastSeen!)).to.be.closeTo(Date.now(), 1000);
    } finally {
      states.close();
    }
  });
});
