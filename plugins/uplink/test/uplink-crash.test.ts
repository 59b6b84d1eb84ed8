import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { createLogger } from '../../../core/src/logging/logger.js';
import { StorageService } from '../../../core/src/storage/storage-service.js';
import { tempDataDir } from '../../../core/test/helpers/temp-data-dir.js';
import { collectorConfig, FaultyProxy, startCentral, startMeter, storedReadings, until } from './uplink-rig.js';

const CLI = fileURLToPath(new URL('../../../packages/meterhub/bin/meterhub.js', import.meta.url));

function startCollectorProcess(root: string): ChildProcess {
  const child = spawn(process.execPath, [CLI, 'start', '--config', join(root, 'collector.json')], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], env: { PATH: process.env['PATH'] } });
  return child;
}

const exited = (child: ChildProcess) => new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(null) : child.once('exit', r)));

describe('uplink: kill -9 of the collector mid-batch', function () {
  this.timeout(120000);

  it('loses nothing and the central host stores each reading once after a restart', async () => {
    const central = await startCentral();
    const meter = await startMeter();
    const dir = tempDataDir();
    // Answers come 300 ms late, so a batch is nearly always in flight.
    const proxy = new FaultyProxy(central.host.http.port);
    proxy.mode = 'slow';
    const port = await proxy.listen();
    const config = collectorConfig('./data', meter.port, { url: `http://127.0.0.1:${port}`, key: central.key, batch: { maxReadings: 20, maxDelayMs: 50 } });
    writeFileSync(join(dir.root, 'collector.json'), JSON.stringify(config));
    let child: ChildProcess | undefined;
    try {
      child = startCollectorProcess(dir.root);
      await until('batches reaching the central host', async () => (await storedReadings(central.host)).size >= 30, 30000);
      await until('a batch in flight', () => proxy.inFlight > 0, 10000);
      child.kill('SIGKILL');
      await exited(child);

      child = startCollectorProcess(dir.root);
      await until('more readings after the restart', async () => (await storedReadings(central.host)).size >= 60, 30000);
      meter.sim.unit(1).faults = { silent: true };
      const outbox = new Database(join(dir.dataDir, 'plugins', 'uplink', 'outbox.db'), { readonly: true });
      await until('the outbox to drain', () => (outbox.prepare('SELECT COUNT(*) AS n FROM outbox').get() as { n: number }).n === 0, 30000);
      expect((outbox.prepare('SELECT COUNT(*) AS n FROM rejected').get() as { n: number }).n).to.equal(0);
      outbox.close();
      child.kill('SIGTERM');
      await exited(child);

      const local = await StorageService.open({
        target: { engine: 'sqlite', filename: join(dir.dataDir, 'meterhub.db') }, dataDir: dir.dataDir, spoolMaxRows: 1000, rollupIntervalMs: 60000,
        retention: { rawDays: null, minuteDays: null, hourDays: null, dayDays: null }, ingest: { maxBatch: 10, maxDelayMs: 5, maxPending: 100 },
      }, createLogger({ level: 'silent', pretty: false }));
      const taken = await storedReadings({ storage: local } as never);
      await local.close();
      const received = await storedReadings(central.host);
      // Every reading the collector stored reached the central host, with the same values.
      for (const [k, v] of taken) expect(received.get(k), k).to.equal(v);
      // The central host may hold a few more: taken and queued in the outbox, but still in the collector's
      // own write queue when it was killed. Never fewer, and the (meter, time) key stores each once.
      expect(received.size).to.be.at.least(taken.size);
      expect(received.size - taken.size).to.be.at.most(10);
    } finally {
      if (child && child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited(child);
      }
      proxy.close();
      await meter.close();
      await central.cleanup();
      dir.cleanup();
    }
  });
});
