import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { RestRig } from '../../rest/test/rest-rig.js';
import { SioClient, WsClient } from './live-clients.js';

const REDIS_URL = process.env['METERHUB_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379/0';

describe('live stream: two host instances behind Redis', function () {
  this.timeout(40000);
  let a: RestRig;
  let b: RestRig;
  const clients: Array<{ close(): void }> = [];

  const redisKey = `meterhub-test-${randomBytes(6).toString('hex')}`;

  before(async () => {
    // A key of its own, so concurrent runs on one Redis never see each other's readings.
    const live = { redis: { url: REDIS_URL }, plugins: { socketio: { config: { redisKey } } } };
    [a, b] = await Promise.all([RestRig.start('sqlite', live), RestRig.start('sqlite', live)]);
    const tokenA = (await a.login()).access;
    const tokenB = (await b.login()).access;
    const meter = (id: string) => ({ id, driver: 'sdm230', bus: 'sim', unitId: 2, intervals: { instantMs: 200, counterMs: 200 } });
    expect((await a.request('POST', '/api/meters/', { token: tokenA, body: meter('flat') })).status).to.equal(201);
    expect((await b.request('POST', '/api/meters/', { token: tokenB, body: meter('garage') })).status).to.equal(201);
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });
  after(() => Promise.all([a?.stop(), b?.stop()]));

  it('a reading pushed over HTTP to one instance reaches a live client of the other', async () => {
    const tokenA = (await a.login()).access;
    expect((await a.request('POST', '/api/meters/', { token: tokenA, body: { id: 'porch' } })).status).to.equal(201);
    const onB = new SioClient(b.base, { token: (await b.login()).access });
    clients.push(onB);
    await onB.connected();
    expect(await onB.subscribe({ meters: ['porch'] })).to.include({ ok: true });
    const ts = Date.now();
    expect((await a.request('POST', '/api/meters/porch/power/', { token: tokenA, body: { timestamp: ts, values: { power: 77.5 } } })).status).to.equal(201);
    await onB.until('the pushed reading on B', () => onB.of('reading', 'porch').length === 1);
    expect(onB.of('reading', 'porch')[0]).to.deep.include({ meterId: 'porch', ts, values: { power: 77.5 }, source: 'push' });
  });

  it('a bulk submission crosses to the other instance in a few Redis messages, every reading handed to its live stream', async () => {
    const tokenA = (await a.login()).access;
    expect((await a.request('POST', '/api/meters/', { token: tokenA, body: { id: 'bulk-shed' } })).status).to.equal(201);
    const onB = new SioClient(b.base, { token: (await b.login()).access });
    clients.push(onB);
    await onB.connected();
    expect(await onB.subscribe({ meters: ['bulk-shed'] })).to.include({ ok: true });
    // What travels between the instances, read straight off Redis.
    const spy = new Redis(REDIS_URL);
    let messages = 0;
    spy.on('pmessage', (_pattern: string, _channel: string, message: string) => {
      if (message.includes('bulk-shed')) messages++;
    });
    await spy.psubscribe(`${redisKey}*`);
    try {
      const seenOnB = () => b.host.status().plugins.find((p) => p.id === 'socketio')!.details!['readings'] as number;
      const before = seenOnB();
      const t0 = Date.now() - 60_000;
      const readings = Array.from({ length: 200 }, (_, k) => ({ timestamp: t0 + k * 100, values: { power: k } }));
      const r = await a.request('POST', '/api/readings/', { token: tokenA, body: { groups: [{ meter: 'bulk-shed', family: 'power', readings }] } });
      expect(r.status).to.equal(201);
      // B's client is sent each reading, or, while it is behind, the newest per meter (back-pressure): the last one always arrives.
      await onB.until('the newest reading on B', () => onB.of('reading', 'bulk-shed').at(-1)?.['values']['power'] === 199);
      // The plugin's status figures are renewed once a second.
      for (let waited = 0; seenOnB() - before < 200 && waited < 5000; waited += 100) await new Promise((r) => setTimeout(r, 100));
      expect(seenOnB() - before, 'readings B took from Redis (and its own polled meter)').to.be.at.least(200);
      // One message a reading cost the sending host more than storing them: a submission goes out in one, or a few.
      expect(messages).to.be.within(1, 3);
    } finally {
      spy.disconnect();
    }
  });

  it('clients of either instance get the readings of meters polled by the other', async () => {
    const onA = new SioClient(a.base, { token: (await a.login()).access });
    const onB = new SioClient(b.base, { token: (await b.login()).access });
    const wsOnB = new WsClient(`ws://127.0.0.1:${b.host.http.port}/ws/meters/?token=${(await b.login()).access}`);
    clients.push(onA, onB, wsOnB);
    await Promise.all([onA.connected(), onB.connected(), wsOnB.open()]);
    expect(await onA.subscribe({ meters: ['garage'] })).to.include({ ok: true });
    expect(await onB.subscribe({ meters: ['flat'] })).to.include({ ok: true });
    wsOnB.send({ type: 'subscribe', meters: ['flat'], measurements: ['power'] });
    await onA.until('readings of B\'s meter on A', () => onA.of('reading', 'garage').length >= 3);
    await onB.until('readings of A\'s meter on B', () => onB.of('reading', 'flat').length >= 3);
    await wsOnB.until('readings of A\'s meter on B\'s WebSocket', () => wsOnB.of('reading', 'flat').length >= 3);
    expect(onA.of('reading').every((r) => r['meterId'] === 'garage')).to.equal(true);
    expect(onB.of('reading').every((r) => r['meterId'] === 'flat')).to.equal(true);
    expect(onB.of('reading', 'flat').at(-1)!['values']['power']).to.equal(640.5);
    expect(wsOnB.of('reading', 'flat').every((r) => Object.keys(r['values']).join() === 'power')).to.equal(true);
    // Each reading arrives once, though two instances relay it.
    const seen = onB.of('reading', 'flat').map((r) => r['ts']);
    expect(new Set(seen).size).to.equal(seen.length);
    // Having seen A's meter, B can give its snapshot to a new client.
    const late = new SioClient(b.base, { token: (await b.login()).access });
    clients.push(late);
    await late.connected();
    await late.subscribe({ meters: ['flat'] });
    await late.until('snapshot', () => late.of('snapshot').length === 1);
    expect(late.of('snapshot')[0]!['ts']).to.be.a('number');
    expect(late.of('snapshot')[0]!['values']['power']).to.equal(640.5);
    const details = a.host.status().plugins.find((p) => p.id === 'socketio')?.details;
    expect(details?.['redis']).to.equal('connected');
  });

  it('an unreachable Redis degrades the plugin; local clients keep getting readings', async () => {
    const lonely = await RestRig.start('sqlite', { redis: { url: 'redis://127.0.0.1:1/0' } });
    try {
      const plugin = lonely.host.status().plugins.find((p) => p.id === 'socketio')!;
      expect(plugin.state).to.equal('degraded');
      expect(plugin.message).to.match(/Redis unreachable/);
      const c = new SioClient(lonely.base, { token: (await lonely.login()).access });
      clients.push(c);
      await c.connected();
      await c.subscribe({ meters: ['house'] });
      await c.until('local readings', () => c.of('reading', 'house').length >= 2);
    } finally {
      await lonely.stop();
    }
  });
});
