import { expect } from 'chai';
import { ApiKeyRepository, UserRepository } from '../../../core/src/accounts/account-repositories.js';
import { RestRig } from '../../rest/test/rest-rig.js';
import { SioClient, WsClient } from './live-clients.js';

/** The bound: a revoked credential's live connections close within 5 s. */
const WITHIN_MS = 5000;

describe('live stream: revoked credentials close live connections', function () {
  this.timeout(60000);
  let rig: RestRig;
  let admin: string;
  const clients: Array<{ close(): void }> = [];
  const track = <T extends { close(): void }>(c: T): T => {
    clients.push(c);
    return c;
  };
  const wsUrl = (query: string) => `ws://127.0.0.1:${rig.host.http.port}/ws/meters/?${query}`;

  /** A Socket.IO and a plain WebSocket client with the same credentials, both connected and subscribed. */
  async function pair(auth: { token?: string; apiKey?: string }) {
    const sio = track(new SioClient(rig.base, auth as Record<string, string>));
    await sio.connected();
    await sio.subscribe({ meters: ['house'] });
    const ws = track(new WsClient(wsUrl(auth.token ? `token=${auth.token}` : `apiKey=${auth.apiKey}`)));
    await ws.open();
    ws.send({ type: 'subscribe', meters: ['house'] });
    await ws.until('ack', () => ws.of('ack').length > 0);
    return { sio, ws };
  }

  /** Both clients hear `closing` first, then are disconnected; the WebSocket with close code 4001. */
  async function expectClosed({ sio, ws }: { sio: SioClient; ws: WsClient }) {
    await sio.until('socket.io closed', () => sio.closed !== undefined, WITHIN_MS);
    await ws.until('ws closed', () => ws.closed !== undefined, WITHIN_MS);
    expect(sio.of('closing')[0]).to.include({ code: 'METERHUB_ERR_UNAUTHORIZED' });
    expect(ws.of('closing')[0]).to.include({ code: 'METERHUB_ERR_UNAUTHORIZED' });
    expect(ws.messages.at(-1)!.type).to.equal('closing');
    expect(ws.closeCode).to.equal(4001);
  }

  async function user(name: string, role: 'admin' | 'viewer') {
    const created = await rig.request('POST', '/api/users/', { token: admin, body: { username: name, password: 'a-password-of-length', role } });
    expect(created.status).to.equal(201);
    const { access, refresh } = await rig.login({ username: name, password: 'a-password-of-length' });
    return { id: created.body.id as number, access, refresh };
  }

  before(async () => {
    rig = await RestRig.start('sqlite', { plugins: { socketio: { config: { credentialRecheckMs: 1000 } } } });
    admin = (await rig.login()).access;
    await rig.waitFor('first reading', () => rig.host.storage!.latest('house', 'power') !== undefined);
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });
  after(() => rig.stop());

  it('revoking an API key closes its connections, not others', async () => {
    const made = await rig.request('POST', '/api/keys/', { token: admin, body: { name: 'wall display', scopes: ['read'] } });
    const other = await rig.request('POST', '/api/keys/', { token: admin, body: { name: 'other', scopes: ['read'] } });
    const revoked = await pair({ apiKey: made.body.key });
    const kept = await pair({ apiKey: other.body.key });
    expect((await rig.request('DELETE', `/api/keys/${made.body.id}/`, { token: admin })).status).to.equal(204);
    await expectClosed(revoked);
    const before = kept.ws.of('reading').length;
    await kept.ws.until('readings keep coming', () => kept.ws.of('reading').length > before);
    expect(kept.sio.socket.connected).to.equal(true);
  });

  it('logout closes the user\'s connections', async () => {
    const u = await user('logout-user', 'viewer');
    const live = await pair({ token: u.access });
    expect((await rig.request('POST', '/api/token/revoke/', { body: { refresh: u.refresh } })).status).to.equal(204);
    await expectClosed(live);
  });

  it('a password change closes the user\'s connections', async () => {
    const u = await user('password-user', 'viewer');
    const live = await pair({ token: u.access });
    expect((await rig.request('PATCH', `/api/users/${u.id}/`, { token: admin, body: { password: 'another-password-1' } })).status).to.equal(200);
    await expectClosed(live);
  });

  it('deleting the user closes its connections', async () => {
    const u = await user('deleted-user', 'viewer');
    const live = await pair({ token: u.access });
    expect((await rig.request('DELETE', `/api/users/${u.id}/`, { token: admin })).status).to.equal(204);
    await expectClosed(live);
  });

  it('revocations made outside the host (the CLI, another process) close connections at the next periodic re-check', async () => {
    const made = await rig.request('POST', '/api/keys/', { token: admin, body: { name: 'cli-revoked', scopes: ['read'] } });
    const byKey = await pair({ apiKey: made.body.key });
    const u = await user('cli-user', 'viewer');
    const byUser = await pair({ token: u.access });
    // What `meterhub key revoke` and `meterhub user passwd` do: their own repositories on the same database, no event to this host.
    const knex = rig.host.storage!.knex;
    expect(await new ApiKeyRepository(knex).revoke(made.body.id)).to.equal(true);
    await new UserRepository(knex).setPassword(u.id, 'changed-from-the-cli');
    // The host trusts its caches for 5 s, then the 1 s re-check finds both revoked.
    await byKey.sio.until('key connection closed', () => byKey.sio.closed !== undefined, 10_000);
    await byKey.ws.until('key ws closed', () => byKey.ws.closed !== undefined, 10_000);
    await byUser.ws.until('user ws closed', () => byUser.ws.closed !== undefined, 10_000);
    await byUser.sio.until('user connection closed', () => byUser.sio.closed !== undefined, 10_000);
    expect(byKey.ws.closeCode).to.equal(4001);
    expect(byUser.ws.closeCode).to.equal(4001);
    for (const c of [byKey.sio, byKey.ws, byUser.sio, byUser.ws]) expect(c.of('closing')[0]).to.include({ code: 'METERHUB_ERR_UNAUTHORIZED' });
  });

  it('a role change re-checks the credentials: a demoted admin keeps read access, so its stream stays', async () => {
    const u = await user('demoted-user', 'admin');
    const live = await pair({ token: u.access });
    const seen: number[] = [];
    rig.host.auth.onCredentialsChanged((c) => {
      if (c.kind === 'user-changed' && c.reason === 'role') seen.push(c.userId);
    });
    expect((await rig.request('PATCH', `/api/users/${u.id}/`, { token: admin, body: { role: 'viewer' } })).status).to.equal(200);
    expect(seen).to.deep.equal([u.id]);
    const before = live.ws.of('reading').length;
    await live.ws.until('readings keep coming', () => live.ws.of('reading').length > before);
    expect(live.sio.of('closing')).to.deep.equal([]);
    expect(live.ws.of('closing')).to.deep.equal([]);
  });
});
