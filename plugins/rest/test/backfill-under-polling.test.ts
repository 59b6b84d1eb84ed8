import { expect } from 'chai';
import { backfillUnderPolling } from '../../../test-support/backfill-run.js';
import { RestRig } from './rest-rig.js';

/**
 * CI runs a fifth of the million readings (the path is the same; the
 * benchmark `npm run bench -- --only=pipeline` runs the full million).
 */
const READINGS = Number(process.env['METERHUB_BACKFILL_READINGS'] ?? 200_000);

describe('backfill while polling: the event loop stays free', function () {
  this.timeout(240_000);
  let rig: RestRig;

  before(async () => {
    rig = await RestRig.start('sqlite', {
      meters: [
        { id: 'house', driver: 'sdm630', bus: 'sim', unitId: 1, intervals: { instantMs: 1000, counterMs: 1000 } },
        { id: 'flat', driver: 'sdm230', bus: 'sim', unitId: 2, intervals: { instantMs: 1000, counterMs: 1000 } },
      ],
    });
  });
  after(() => rig.stop());

  it(`stores every poll of 2 meters polled at 1 s while ${READINGS.toLocaleString('en')} readings are submitted and queried; busy loop delay p99 < 50 ms`, async () => {
    const token = (await rig.login()).access;
    expect((await rig.request('POST', '/api/meters/', { token, body: { id: 'archive' } })).status).to.equal(201);
    await rig.waitFor('both meters polled', () => rig.host.storage!.latest('house', 'power') !== undefined && rig.host.storage!.latest('flat', 'power') !== undefined);
    const figures = await backfillUnderPolling(rig, token, 'archive', READINGS, ['house', 'flat']);
    expect(figures.missedPolls, JSON.stringify(figures)).to.deep.equal({ house: 0, flat: 0 });
    expect(figures.polls['house'], JSON.stringify(figures)).to.be.greaterThan(figures.seconds - 5);
    // The target, p99 < 50 ms, counting the time this process computed (see BackfillFigures.busy):
    // on a shared 2-core machine the wait for a CPU alone can exceed it, and that is no task holding the loop.
    // A task that held the loop (rollups of the whole backfill at once took 7-11 s) shows as CPU-busy gaps.
    expect(figures.busy.p99Ms, JSON.stringify(figures)).to.be.below(50);
    expect(figures.busy.maxMs, JSON.stringify(figures)).to.be.below(500);
  });
});
