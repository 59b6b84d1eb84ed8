import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import jwt from 'jsonwebtoken';
import { OldFrontend } from './old-clients/old-frontend.js';
import { ADMIN, RestRig } from './rest-rig.js';

const LOGGER = fileURLToPath(new URL('./old-clients/old_logger_client.py', import.meta.url));
const PYTHON = '/usr/bin/python3';

/**
 * A loopback proxy in front of the host that fails the way networks do: it
 * resets the first connection, answers the first energy post with a 503 as a
 * reverse proxy whose upstream is away would, and lets the first power post
 * reach the host but drops its answer (the reading is stored, the client
 * cannot know). Everything else passes through.
 */
async function flakyProxy(target: number): Promise<{ server: Server; port: number; events: string[] }> {
  const events: string[] = [];
  let connections = 0;
  let powerCut = false;
  let energyRefused = false;
  const server = createServer((client: Socket) => {
    connections++;
    if (connections === 1) {
      events.push('reset');
      client.resetAndDestroy();
      return;
    }
    client.once('data', (first: Buffer) => {
      const line = first.toString('latin1').split('\r\n', 1)[0]!;
      if (!energyRefused && /^POST \S+\/energy\//.test(line)) {
        energyRefused = true;
        events.push('503');
        client.end('HTTP/1.1 503 Service Unavailable\r\nRetry-After: 0\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
        return;
      }
      const upstream = createConnection({ host: '127.0.0.1', port: target });
      upstream.write(first);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
      if (!powerCut && /^POST \S+\/power\//.test(line)) {
        powerCut = true;
        events.push('answer lost');
        client.pipe(upstream);
        upstream.once('data', () => {
          client.destroy();
          upstream.destroy();
        });
        return;
      }
      client.pipe(upstream).pipe(client);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port, events };
}

function runLogger(base: string, meter: string, readings: object): Promise<Array<{ family: string; status: number; attempts: number; body: unknown }>> {
  const file = join(tmpdir(), `old-logger-${process.pid}-${Date.now()}.json`);
  writeFileSync(file, JSON.stringify(readings));
  return new Promise((resolve, reject) => {
    execFile(PYTHON, [LOGGER, base, meter, file], { env: { PATH: process.env['PATH'], LOGGER_USERNAME: ADMIN.username, LOGGER_PASSWORD: ADMIN.password }, timeout: 30000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${PYTHON} ${LOGGER} failed (install python3): ${err.message}\n${stderr}`));
      else resolve(stdout.trim().split('\n').map((l) => JSON.parse(l)));
    });
  });
}

describe('REST API: the old clients, unchanged, against a real host', function () {
  this.timeout(60000);
  let rig: RestRig;
  const now = Date.now() - 10 * 60_000;
  const power = Array.from({ length: 30 }, (_, i) => ({ timestamp: new Date(now + i * 10_000).toISOString(), voltage: 230 + i / 10, current: 4.1, power: 950 + i, frequency: 50 }));
  const energy = Array.from({ length: 5 }, (_, i) => ({ timestamp: new Date(now + i * 60_000).toISOString(), import_energy: 100 + i * 0.25, export_energy: 1 }));

  before(async () => {
    rig = await RestRig.start('sqlite');
  });
  after(() => rig.stop());

  it('the old logger client posts flat readings through a failing network: retried, each stored once', async () => {
    const frontend = new OldFrontend(rig.base);
    await frontend.login(ADMIN.username, ADMIN.password);
    // The old API numbered meters; the admin page posted the number.
    const created = await fetch(`${rig.base}/api/meters/`, { method: 'POST', headers: { authorization: `Bearer ${frontend.access}`, 'content-type': 'application/json' }, body: JSON.stringify({ id: 3, name: 'Flat', driver: 'sdm230', bus: 'sim', unitId: 9, enabled: false }) });
    expect(created.status).to.equal(201);

    const proxy = await flakyProxy(rig.host.http.port);
    try {
      const posts = await runLogger(`http://127.0.0.1:${proxy.port}`, '3', { power, energy });
      expect(proxy.events).to.deep.equal(['reset', 'answer lost', '503']);
      expect(posts.map((p) => [p.family, p.status])).to.deep.equal([['power', 201], ['power', 201], ['energy', 201], ['energy', 201]]);
      expect(posts[0]!.attempts).to.equal(2); // its first answer was lost after the host stored it
      expect(posts[2]!.attempts).to.equal(2); // the 503
      expect(posts[1]!.body).to.deep.equal({ accepted: 29, spooled: 0 });
    } finally {
      proxy.server.close();
    }
    const history = await frontend.json<{ count: number; results: Array<{ values: Record<string, number> }> }>(`/api/meters/3/power/history/?resolution=raw&from=${now}&to=${now + 300_000}`);
    expect(history.count).to.equal(30); // the re-sent reading was not stored twice
    expect(history.results[0]!.values).to.deep.equal({ voltageL1: 230, currentL1: 4.1, power: 950, frequency: 50 });
    expect(history.results[29]!.values.voltageL1).to.equal(232.9);
    const latest = await frontend.json<{ values: Record<string, number> }>('/api/meters/3/energy/latest/');
    expect(latest.values).to.deep.equal({ importEnergy: 101, exportEnergy: 1 });
  });

  it('the old frontend logs in, lists meters page by page, reads latest and history, downloads an export', async () => {
    const frontend = new OldFrontend(rig.base);
    await frontend.login(ADMIN.username, ADMIN.password);
    const user = (await rig.host.accounts!.users.byUsername(ADMIN.username))!;
    expect(frontend.userId).to.equal(String(user.id));
    const meters = await frontend.all<{ id: string }>('/api/meters/?limit=1&format=json');
    expect(meters).to.deep.include({ count: 2, pages: 2 });
    expect(meters.items.map((m) => m.id)).to.deep.equal(['house', '3']);
    expect((await frontend.json<{ values: Record<string, number> }>('/api/meters/3/power/latest/?_=1')).values).to.include({ voltageL1: 232.9, power: 979 });
    // No from/to: the last 24 hours, as the old frontend's chart asked.
    // A day for 1000 points is minute rollups: 30 readings 10 s apart fill 5 or 6 minutes.
    const history = await frontend.json<{ count: number; bucket: string; bucketSeconds: number; results: unknown[] }>(`/api/meters/3/power/history/?_=${Date.now()}`);
    expect(history).to.include({ bucket: '1m', bucketSeconds: 60 });
    expect(history.count).to.be.within(5, 6);
    const file = await frontend.download('/api/export/?meters=3&format=csv&measurements=voltageL1,power');
    expect(file.type).to.match(/^text\/csv/);
    expect(file.name).to.match(/^meterhub-3-power-.*\.csv$/);
    const lines = file.text.trim().split('\r\n');
    expect(lines[0]).to.equal('time (UTC),meter,voltageL1 (V),power (W)');
    expect(lines).to.have.length(31);
  });

  it('the old frontend refreshes its token when a 401 carries simplejwt\'s token_not_valid, and goes on', async () => {
    const frontend = new OldFrontend(rig.base);
    await frontend.login(ADMIN.username, ADMIN.password);
    const claims = JSON.parse(Buffer.from(frontend.access.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
    // The access token of a tab left open: the same claims, expired a minute ago.
    const { exp: _exp, iat: _iat, ...rest } = claims;
    frontend.access = jwt.sign({ ...rest, exp: Math.floor(Date.now() / 1000) - 60 }, rig.signingKey(), { algorithm: 'HS256' });
    const expired = await fetch(`${rig.base}/api/meters/`, { headers: { authorization: `Bearer ${frontend.access}` } });
    expect(expired.status).to.equal(401);
    expect(await expired.json()).to.deep.include({ code: 'token_not_valid' });
    const meters = await frontend.all<{ id: string }>('/api/meters/');
    expect(meters.count).to.equal(2);
    expect(frontend.refreshes).to.equal(1);
  });
});
