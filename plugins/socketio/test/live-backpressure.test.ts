import { expect } from 'chai';
import { RestRig } from '../../rest/test/rest-rig.js';
import { SioClient, WsClient } from './live-clients.js';

const READINGS = 1500;
/** Wide readings fill the slow client's socket buffers (several MB on loopback) within the test. */
const WIDTH = 400;

function bulkReading(seq: number) {
  const values: Record<string, number> = { seq };
  for (let i = 0; i < WIDTH; i++) values[`x${i}`] = seq + i / 1000;
  return { meterId: 'bulk', ts: 1_700_000_000_000 + seq, values };
}

/** Every reading published is either delivered or folded into a later one (`merged` counts those). */
const accounted = (readings: Array<Record<string, any>>) => readings.reduce((n, r) => n + 1 + (r['merged'] ?? 0), 0);

describe('live stream: slow clients', function () {
  this.timeout(60000);
  let rig: RestRig;
  let token: string;

  before(async () => {
    rig = await RestRig.start('sqlite');
    token = (await rig.login()).access;
    // A pushed meter: readings of meters the host does not know are refused on entry.
    await rig.host.meters!.create({ id: 'bulk' });
  });
  after(() => rig.stop());

  it('a client that stops reading gets only the newest values later and never holds up a fast client', async () => {
    const fast = new SioClient(rig.base, { token });
    const slow = new SioClient(rig.base, { token });
    const ws = new WsClient(`ws://127.0.0.1:${rig.host.http.port}/ws/meters/?token=${token}`);
    const slowWs = new WsClient(`ws://127.0.0.1:${rig.host.http.port}/ws/meters/?token=${token}`);
    try {
      await Promise.all([fast.connected(), slow.connected(), ws.open(), slowWs.open()]);
      await Promise.all([fast.subscribe({ meters: '*' }), slow.subscribe({ meters: '*' })]);
      ws.send({ type: 'subscribe', meters: '*' });
      slowWs.send({ type: 'subscribe', meters: '*' });
      await ws.until('acks', () => ws.of('ack').length === 1 && slowWs.of('ack').length === 1);
      slow.pauseReading();
      (slowWs.ws as unknown as { _socket: { pause(): void } })._socket.pause();

      for (let seq = 1; seq <= READINGS; seq++) {
        rig.host.bus.publish(bulkReading(seq));
        if (seq % 5 === 0) await new Promise((r) => setImmediate(r));
      }
      const bulk = (c: SioClient | WsClient) => c.of('reading', 'bulk');
      const last = (c: SioClient | WsClient) => bulk(c).at(-1)?.['values']['seq'];
      await fast.until('the fast client has everything', () => last(fast) === READINGS && last(ws) === READINGS, 30000);

      // The fast clients got every reading (at most a few merged in bursts), while the slow ones were still stuck.
      expect(accounted(bulk(fast))).to.equal(READINGS);
      expect(accounted(bulk(ws))).to.equal(READINGS);
      expect(bulk(fast).length).to.be.greaterThan(READINGS * 0.9);
      expect(last(slow)).to.not.equal(READINGS);
      expect(last(slowWs)).to.not.equal(READINGS);
      await rig.waitFor('merged updates on the status', () => {
        const details = rig.host.status().plugins.find((p) => p.id === 'socketio')?.details ?? {};
        return Number(details['mergedUpdates']) > 0 && Number(details['clientsBehind']) === 2;
      });

      slow.resumeReading();
      (slowWs.ws as unknown as { _socket: { resume(): void } })._socket.resume();
      await slow.until('the slow client catches up with the newest value', () => last(slow) === READINGS && last(slowWs) === READINGS, 30000);
      for (const c of [slow, slowWs]) {
        expect(bulk(c).length).to.be.lessThan(READINGS / 2);
        expect(accounted(bulk(c))).to.equal(READINGS);
        // The merged reading carries the newest value of every measurement.
        expect(bulk(c).at(-1)!['values']['x399']).to.equal(READINGS + 0.399);
        expect(bulk(c).at(-1)!['ts']).to.equal(1_700_000_000_000 + READINGS);
      }
    } finally {
      for (const c of [fast, slow, ws, slowWs]) c.close();
    }
  });
});
