import { expect } from 'chai';
import jwt from 'jsonwebtoken';
import { RestRig, VIEWER } from '../../rest/test/rest-rig.js';
import { SioClient, WsClient } from './live-clients.js';

const FLAT = { id: 'flat', driver: 'sdm230', bus: 'sim', unitId: 2, intervals: { instantMs: 200, counterMs: 200 } };

describe('live stream: Socket.IO /meters and WebSocket /ws/meters/', function () {
  this.timeout(30000);
  let rig: RestRig;
  let token: string;
  const clients: Array<{ close(): void }> = [];
  const track = <T extends { close(): void }>(c: T): T => {
    clients.push(c);
    return c;
  };

  before(async () => {
    rig = await RestRig.start('sqlite');
    token = (await rig.login()).access;
    const created = await rig.request('POST', '/api/meters/', { token, body: FLAT });
    expect(created.status).to.equal(201);
    await rig.waitFor('first readings of both meters', () => rig.host.storage!.latest('flat', 'power') !== undefined && rig.host.storage!.latest('house', 'power') !== undefined);
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
    rig.sim.unit(1).faults = {};
  });
  after(() => rig.stop());

  it('refuses a handshake without credentials, with a forged token and with a key lacking the read scope', async () => {
    const anonymous = await track(new SioClient(rig.base)).refused();
    expect(anonymous.message).to.match(/authentication is required/);
    expect(anonymous.data?.code).to.equal('METERHUB_ERR_UNAUTHORIZED');

    const forged = jwt.sign({ typ: 'access', ver: 0, role: 'admin', jti: 'x' }, 'not-the-signing-key-at-all', { algorithm: 'HS256', issuer: 'meterhub', subject: '1', expiresIn: 60 });
    const refused = await track(new SioClient(rig.base, { token: forged })).refused();
    expect(refused.message).to.equal('the access token is not valid');

    const { key } = await rig.host.accounts!.keys.create('ingest only', ['ingest'], null);
    const noRead = await track(new SioClient(rig.base, { apiKey: key })).refused();
    expect(noRead.data?.code).to.equal('METERHUB_ERR_FORBIDDEN');

    const ws = track(new WsClient(`ws://127.0.0.1:${rig.host.http.port}/ws/meters/`));
    await ws.until('refusal', () => ws.closed !== undefined);
    expect(ws.opened).to.equal(false);
    expect(ws.status).to.equal(401);
    expect(JSON.parse(ws.body).error.code).to.equal('METERHUB_ERR_UNAUTHORIZED');
    const wsForged = track(new WsClient(`ws://127.0.0.1:${rig.host.http.port}/ws/meters/?token=${forged}`));
    await wsForged.until('refusal', () => wsForged.closed !== undefined);
    expect(wsForged.status).to.equal(401);
  });

  it('a subscriber to one meter gets its snapshot at once, then only that meter\'s readings', async () => {
    const viewer = (await rig.login(VIEWER)).access;
    const c = track(new SioClient(rig.base, { token: viewer }));
    await c.connected();
    expect(c.of('hello')[0]).to.include({ v: 1, server: 'meterhub' });
    const ack = await c.subscribe({ meters: ['house'], measurements: ['voltageL1', 'power'] });
    expect(ack).to.deep.equal({ type: 'ack', v: 1, ok: true, meters: ['house'], measurements: ['power', 'voltageL1'] });
    await c.until('snapshot', () => c.of('snapshot').length > 0);
    const snapshot = c.of('snapshot')[0]!;
    expect(snapshot).to.include({ meterId: 'house', state: 'online' });
    expect(snapshot['values']).to.have.keys(['voltageL1', 'power']);
    expect(snapshot['values']['voltageL1']).to.be.closeTo(231.25, 0.001);
    await c.until('three readings', () => c.of('reading').length >= 3);
    for (const r of c.of('reading')) {
      expect(r['meterId']).to.equal('house');
      expect(Object.keys(r['values'])).to.satisfy((keys: string[]) => keys.every((k) => k === 'voltageL1' || k === 'power'));
    }
    expect(c.of('snapshot').map((s) => s['meterId'])).to.deep.equal(['house']);
  });

  it('"*" follows every meter; unsubscribe stops a meter', async () => {
    const c = track(new SioClient(rig.base, { token }, { transports: ['polling', 'websocket'] }));
    await c.connected();
    await c.subscribe({ meters: '*' });
    await c.until('readings of both meters', () => c.of('reading', 'house').length > 0 && c.of('reading', 'flat').length > 0);
    expect(c.of('snapshot').map((s) => s['meterId']).sort()).to.deep.equal(['flat', 'house']);
    const ack = await c.unsubscribe({ meters: '*' });
    expect(ack).to.deep.include({ ok: true, meters: [] });
    await new Promise((r) => setTimeout(r, 100));
    const count = c.of('reading').length;
    await new Promise((r) => setTimeout(r, 600));
    expect(c.of('reading').length).to.equal(count);
  });

  it('answers bad subscriptions with the field at fault', async () => {
    const c = track(new SioClient(rig.base, { token }));
    await c.connected();
    const unknownMeter = await c.subscribe({ meters: ['house', 'nope'] });
    expect(unknownMeter.ok).to.equal(false);
    expect(unknownMeter.error.details).to.deep.equal([{ path: '/meters/1', message: 'no meter "nope"' }]);
    const unknownMeasurement = await c.subscribe({ meters: ['house'], measurements: ['volts'] });
    expect(unknownMeasurement.error.details).to.deep.equal([{ path: '/measurements/0', message: 'unknown measurement "volts"' }]);
    const badShape = await c.subscribe({ meters: 42 });
    expect(badShape.error.code).to.equal('METERHUB_ERR_VALIDATION');
    expect(badShape.error.details[0].path).to.equal('/meters');
    expect(c.of('snapshot')).to.have.length(0);
  });

  it('reports a meter going offline when its simulator goes silent, and online when it answers again', async () => {
    const c = track(new SioClient(rig.base, { token }));
    await c.connected();
    await c.subscribe({ meters: ['house'] });
    rig.sim.unit(1).faults = { silent: true };
    await c.until('offline', () => c.of('meter-state').some((m) => m['state'] === 'offline'));
    const offline = c.of('meter-state').find((m) => m['state'] === 'offline')!;
    expect(offline).to.include({ type: 'meter-state', v: 1, meterId: 'house' });
    expect(offline['error']).to.be.a('string').and.not.empty;
    rig.sim.unit(1).faults = {};
    await c.until('online again', () => c.of('meter-state').some((m) => m['state'] === 'online'), 15000);
    expect(c.of('meter-state').every((m) => m['meterId'] === 'house')).to.equal(true);
  });

  it('ends a connection whose access token expires, with the reason', async () => {
    const claims = jwt.decode(token) as Record<string, unknown>;
    const short = jwt.sign({ typ: 'access', ver: claims['ver'], role: 'admin', jti: 'short' }, rig.signingKey(), { algorithm: 'HS256', issuer: 'meterhub', subject: String(claims['sub']), expiresIn: 2 });
    const c = track(new SioClient(rig.base, { token: short }));
    await c.connected();
    expect(c.of('hello')[0]!['expiresAt']).to.be.within(Date.now() + 500, Date.now() + 2500);
    await c.subscribe({ meters: ['house'] });
    await c.until('closing', () => c.closed !== undefined, 6000);
    expect(c.of('closing')[0]).to.deep.include({ code: 'METERHUB_ERR_UNAUTHORIZED', message: 'the access token has expired; connect again with a new one' });
    expect(c.closed!.reason).to.equal('io server disconnect');

    const w = track(new WsClient(`ws://127.0.0.1:${rig.host.http.port}/ws/meters/`, { authorization: `Bearer ${short}` }));
    await w.open().catch(() => undefined);
    // The token has expired by now: the upgrade itself is refused.
    expect(w.status).to.equal(401);
    expect(JSON.parse(w.body).error.message).to.equal('the access token has expired');
  });

  it('serves the same JSON messages on the plain WebSocket, token in a header or the query', async () => {
    const w = track(new WsClient(`ws://127.0.0.1:${rig.host.http.port}/ws/meters/?token=${token}`));
    await w.open();
    await w.until('hello', () => w.of('hello').length === 1);
    w.send({ type: 'subscribe', id: 7, meters: ['flat'], measurements: ['power'] });
    await w.until('ack, snapshot and readings', () => w.of('reading').length >= 2);
    const [ack, snapshot] = w.messages.slice(1, 3);
    expect(ack).to.deep.equal({ type: 'ack', v: 1, id: 7, ok: true, meters: ['flat'], measurements: ['power'] });
    expect(snapshot).to.deep.include({ type: 'snapshot', v: 1, meterId: 'flat', state: 'online', values: { power: 640.5 } });
    expect(w.of('reading').every((r) => r['meterId'] === 'flat' && Object.keys(r['values']).join() === 'power')).to.equal(true);
    w.send({ type: 'subscribe', id: 8, meters: ['nope'] });
    w.send({ type: 'dance' } as never);
    await w.until('two errors', () => w.of('ack').filter((a) => !a['ok']).length === 2);
    const errors = w.of('ack').filter((a) => !a['ok']);
    const unknownMeter = errors.find((a) => a['id'] === 8)!;
    expect(unknownMeter['error'].details).to.deep.equal([{ path: '/meters/0', message: 'no meter "nope"' }]);
    expect(errors.find((a) => a['id'] === undefined)!['error'].details[0].path).to.equal('/type');

    const { key } = await rig.host.accounts!.keys.create('dashboard', ['read'], null);
    const k = track(new WsClient(`ws://127.0.0.1:${rig.host.http.port}/ws/meters/`, { 'x-api-key': key }));
    await k.open();
    await k.until('hello', () => k.of('hello').length === 1);
    expect(k.of('hello')[0]).to.not.have.property('expiresAt');
  });

  it('shows clients and delivery counts on the plugin status; unknown upgrade paths get 404', async () => {
    const c = track(new SioClient(rig.base, { token }));
    await c.connected();
    await c.subscribe({ meters: ['house'] });
    await c.until('a reading', () => c.of('reading').length > 0);
    await rig.waitFor('status details', () => {
      const plugin = rig.host.status().plugins.find((p) => p.id === 'socketio');
      return (plugin?.details?.['clients'] as Record<string, number> | undefined)?.['socketio'] === 1 && Number(plugin?.details?.['delivered']) > 0;
    });
    const other = track(new WsClient(`ws://127.0.0.1:${rig.host.http.port}/ws/elsewhere`, { authorization: `Bearer ${token}` }));
    await other.until('refusal', () => other.closed !== undefined);
    expect(other.status).to.equal(404);
  });
});
