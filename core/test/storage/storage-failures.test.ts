import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import pg from 'pg';
import { TcpProxy } from '../../../test-support/tcp-proxy.js';
import { ENGINES, meterConfig, StorageHarness } from './storage-harness.js';

const CHILD = fileURLToPath(new URL('./ingest-child.ts', import.meta.url));

describe('storage under failure', function () {
  this.timeout(90000);

  it('PostgreSQL outage: readings wait in the on-disk spool and all arrive, once, when it returns', async () => {
    const proxy = new TcpProxy(5432);
    await proxy.start();
    const h = await StorageHarness.create('postgres', 'outage', (db) => ({ ...db.connection, port: proxy.port }));
    const s = await h.open({ ingest: { maxBatch: 50, maxDelayMs: 10, maxPending: 1000 } });
    try {
      await s.syncConfigMeters([meterConfig('house')]);
      const t0 = Date.UTC(2026, 0, 1);
      const reading = (i: number) => ({ meterId: 'house', ts: t0 + i * 1000, values: { power: i, importEnergy: i / 10 } });
      for (let i = 0; i < 10; i++) expect(await s.ingest(reading(i))).to.equal('stored');
      await proxy.cut();
      const during = await Promise.all(Array.from({ length: 40 }, (_, i) => s.ingest(reading(10 + i))));
      expect(during.every((o) => o === 'spooled')).to.equal(true);
      expect(s.spool.size).to.equal(40);
      // The host keeps taking readings meanwhile; the bus path spools too.
      for (let i = 50; i < 60; i++) s.offer(reading(i));
      await proxy.restore();
      const deadline = Date.now() + 30000;
      while ((s.spool.size > 0 || s.queue.pending > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(s.spool.size).to.equal(0);
      const direct = new pg.Client({ ...(h.target.connection as pg.ClientConfig), port: 5432 });
      await direct.connect();
      const { rows } = await direct.query<{ n: string; min: string; max: string }>('SELECT COUNT(*) AS n, MIN(ts) AS min, MAX(ts) AS max FROM readings_power');
      await direct.end();
      expect(Number(rows[0]!.n)).to.equal(60);
      expect(Number(rows[0]!.max) - Number(rows[0]!.min)).to.equal(59_000);
    } finally {
      await s.close();
      await proxy.cut();
      await h.dispose();
    }
  });

  for (const engine of ENGINES) {
    it(`kill -9 during ingest on ${engine}: every committed reading survives, no corruption`, async () => {
      const h = await StorageHarness.create(engine, 'crash');
      try {
        const child = spawn(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify(h.settings({ ingest: { maxBatch: 100, maxDelayMs: 5, maxPending: 5000 } }))],
          { stdio: ['ignore', 'pipe', 'pipe'] });
        let committed = 0;
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.stdout.on('data', (d: Buffer) => {
          for (const m of d.toString().matchAll(/committed (\d+)/g)) committed = Number(m[1]);
        });
        const deadline = Date.now() + 30000;
        while (committed < 3000 && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 10));
        expect(committed, stderr).to.be.at.least(3000);
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGKILL');
        await exited;
        if (engine === 'sqlite') {
          const db = new Database(h.target.filename!);
          expect(db.pragma('integrity_check', { simple: true })).to.equal('ok');
          db.close();
        }
        const s = await h.open();
        try {
          const power = await s.history('crash', { family: 'power', from: 0, to: Date.UTC(2030, 0, 1), resolution: 'raw' });
          expect(power.points.length).to.be.at.least(committed);
          // Rows are whole: every stored reading has both of its values.
          expect(power.points.every((p) => p.values['voltageL1'] === 230 && typeof p.values['power'] === 'number')).to.equal(true);
          const ts = power.points.map((p) => p.ts);
          expect(new Set(ts).size).to.equal(ts.length);
        } finally {
          await s.close();
        }
      } finally {
        await h.dispose();
      }
    });
  }
});
