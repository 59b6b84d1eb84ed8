import { expect } from 'chai';
import { LATENCY_BUCKETS_MS, LatencyStats } from '../../src/acquisition/latency-stats.js';

describe('latency stats', () => {
  it('keeps a cumulative histogram of every sample since start beside the percentiles of the recent ones', () => {
    const stats = new LatencyStats(4);
    for (const ms of [3, 5, 7, 40, 40, 6000]) stats.add(ms);
    const h = stats.histogram();
    expect(h.bucketsMs).to.equal(LATENCY_BUCKETS_MS);
    // Upper bounds are inclusive (Prometheus' `le`): 5 ms falls in the 5 ms bucket.
    expect(h.counts).to.deep.equal([2, 3, 3, 5, 5, 5, 5, 5, 5, 5]);
    expect(h.count).to.equal(6);
    expect(h.sumMs).to.equal(6095);
    // The ring holds only the last 4 samples; the histogram all of them.
    expect(stats.percentiles().samples).to.equal(4);
  });
});
