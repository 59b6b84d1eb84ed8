import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDataDir } from '../../../core/test/helpers/temp-data-dir.js';
import { createTestDatabase, type TestDatabase } from '../../../test-support/postgres.js';
import { SioClient, WsClient } from '../../socketio/test/live-clients.js';
import { collectorConfig, startCentral, startMeter } from './uplink-rig.js';

const CLI = fileURLToPath(new URL('../../../packages/meterhub/bin/meterhub.js', import.meta.url));
const exited = (child: ChildProcess) => new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(null) : child.once('exit', r)));

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`uplink on ${engine}: forwarded readings go live on the central host`, function () {
    this.timeout(60000);

    it('readings a collector process forwards reach socket.io and WebSocket clients of the central host, shaped like polled ones', async () => {
      let db: TestDatabase | undefined;
      if (engine === 'postgres') db = await createTestDatabase('uplink_live');
      const central = await startCentral(db ? { client: 'postgres', connection: db.connection } : {});
      const meter = await startMeter();
      const dir = tempDataDir();
      let child: ChildProcess | undefined;
      const clients: Array<{ close(): void }> = [];
      try {
        const { key } = await central.host.accounts!.keys.create('live user', ['read'], null);
        const sio = new SioClient(`http://127.0.0.1:${central.host.http.port}`, { apiKey: key });
        const ws = new WsClient(`ws://127.0.0.1:${central.host.http.port}/ws/meters/`, { 'x-api-key': key });
        clients.push(sio, ws);
        await Promise.all([sio.connected(), ws.open()]);
        expect(await sio.subscribe({ meters: ['house'] })).to.include({ ok: true });
        ws.send({ type: 'subscribe', meters: ['house'] });
        await ws.until('ack', () => ws.of('ack').length === 1);

        writeFileSync(join(dir.root, 'collector.json'), JSON.stringify(collectorConfig('./data', meter.port, { url: `http://127.0.0.1:${central.host.http.port}`, key: central.key })));
        child = spawn(process.execPath, [CLI, 'start', '--config', join(dir.root, 'collector.json')], { cwd: dir.root, stdio: ['ignore', 'ignore', 'inherit'], env: { PATH: process.env['PATH'] } });

        await sio.until('forwarded readings on socket.io', () => sio.of('reading', 'house').length >= 3, 30000);
        await ws.until('forwarded readings on the WebSocket', () => ws.of('reading', 'house').length >= 3, 10000);
        for (const c of [sio, ws]) {
          const r = c.of('reading', 'house')[0]!;
          expect(Object.keys(r).sort()).to.deep.equal(['meterId', 'source', 'ts', 'type', 'v', 'values']);
          expect(r['source']).to.equal('uplink');
          expect(Object.keys(r['values']).length).to.be.greaterThan(0);
        }
        // The meter list's lastSeen comes from the same arrivals, though the central host does not poll it.
        const res = await fetch(`http://127.0.0.1:${central.host.http.port}/api/meters/house/`, { headers: { 'x-api-key': key } });
        const listed = await res.json() as { status: { lastSeen: string | null } };
        expect(Date.now() - Date.parse(listed.status.lastSeen!)).to.be.below(15000);
      } finally {
        clients.forEach((c) => c.close());
        if (child && child.exitCode === null) {
          child.kill('SIGTERM');
          await exited(child);
        }
        await meter.close();
        await central.cleanup();
        dir.cleanup();
        await db?.drop();
      }
    });
  });
}
