import { expect } from 'chai';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { AcquisitionRig } from '../helpers/acquisition-rig.js';

/** A pino logger at `level` whose lines land in `lines`. */
function capture(level: string, lines: Array<{ msg: string; time: number }>) {
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as { msg: string; time: number });
      done();
    },
  });
  return pino({ level }, sink);
}

const TRACE = /^bus b1 unit 1: request 04 ([0-9a-f]{2} ){3}[0-9a-f]{2}, answer ([0-9a-f]{2} )*[0-9a-f]{2} in \d+\.\d ms/;

describe('bus trace at debug level: each request and answer in hex with its timing, rate-limited', function () {
  this.timeout(30000);

  it('LOG_LEVEL=debug logs requests and answers in hex, at most 20 lines a second, saying how many were left out', async () => {
    const lines: Array<{ msg: string; time: number }> = [];
    const rig = await AcquisitionRig.start({
      units: [{ unit: 1, driver: 'sdm230' }],
      meters: [{ id: 'm', driver: 'sdm230', bus: 'b1', unitId: 1, intervals: { instantMs: 100, counterMs: 100 } }],
      logger: capture('debug', lines),
    });
    try {
      await new Promise((r) => setTimeout(r, 2500));
    } finally {
      await rig.stop();
    }
    const traced = lines.filter((l) => l.msg.startsWith('bus b1 unit 1: request'));
    expect(traced.length).to.be.greaterThan(5);
    for (const l of traced) expect(l.msg).to.match(TRACE);
    // The first request of a cycle asks for input registers from address 0.
    expect(traced.some((l) => l.msg.includes('request 04 00 00'))).to.equal(true);
    const perSecond = new Map<number, number>();
    for (const l of traced) perSecond.set(Math.floor(l.time / 1000), (perSecond.get(Math.floor(l.time / 1000)) ?? 0) + 1);
    expect(Math.max(...perSecond.values())).to.be.at.most(20);
    // Several requests per cycle every 100 ms are more than 20 a second.
    expect(traced.some((l) => /\(\d+ earlier line\(s\) left out\)$/.test(l.msg))).to.equal(true);
  });

  it('logs nothing of the kind at info level', async () => {
    const lines: Array<{ msg: string; time: number }> = [];
    const rig = await AcquisitionRig.start({
      units: [{ unit: 1, driver: 'sdm230' }],
      meters: [{ id: 'm', driver: 'sdm230', bus: 'b1', unitId: 1, intervals: { instantMs: 100, counterMs: 100 } }],
      logger: capture('info', lines),
    });
    try {
      await new Promise((r) => setTimeout(r, 800));
      expect(rig.readings.length).to.be.greaterThan(0);
    } finally {
      await rig.stop();
    }
    expect(lines.filter((l) => l.msg.includes(': request '))).to.deep.equal([]);
  });
});
