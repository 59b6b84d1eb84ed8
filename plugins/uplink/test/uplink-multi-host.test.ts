import { expect } from 'chai';
import { execFile, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { controlSocketPath, queryControlSocket } from '../../../core/src/http/control-socket.js';
import { createLogger } from '../../../core/src/logging/logger.js';
import { StorageService } from '../../../core/src/storage/storage-service.js';
import { tempDataDir } from '../../../core/test/helpers/temp-data-dir.js';
import { builtinDriver } from '../../../test-support/builtin-drivers.js';
import { freePort } from '../../../test-support/tcp-ports.js';
import { createTestDatabase, type TestDatabase } from '../../../test-support/postgres.js';
import { CentralProcess, CLI, exited, rowsInDatabase, startProcess } from './central-cluster.js';
import { collectorConfig, startMeter, storedReadings, until } from './uplink-rig.js';

const run = promisify(execFile);

interface TargetView { server: string; state: 'up' | 'down'; current: boolean; batches: number; readings: number; lastError: { message: string } | null }

/**
 * Two central hosts on one PostgreSQL database, a simulated meter with two
 * units, and a collector process forwarding "house" (known to the central
 * hosts) and "garage" (created through `createMeters` on whichever host answers).
 */
class Cluster {
  readonly dir = tempDataDir();
  db!: TestDatabase;
  a!: CentralProcess;
  b!: CentralProcess;
  meter!: Awaited<ReturnType<typeof startMeter>>;
  collector: ChildProcess | undefined;

  async start(uplink: Record<string, unknown>): Promise<void> {
    this.db = await createTestDatabase('uplink_multi');
    this.a = new CentralProcess(this.dir.root, 'a', await freePort(), this.db);
    this.b = new CentralProcess(this.dir.root, 'b', await freePort(), this.db);
    // One after the other: the first one creates the schema.
    await this.a.start();
    await this.b.start();
    const key = await this.a.createKey('ingest,meters:write');
    this.meter = await startMeter();
    this.meter.sim.addUnit(2, builtinDriver('sdm230'));
    const config = collectorConfig('./data', this.meter.port, { url: [this.a.url, this.b.url], key, createMeters: {}, ...uplink });
    const meters = config['meters'] as Array<Record<string, unknown>>;
    meters.push({ ...meters[0]!, id: 'garage', unitId: 2 });
    writeFileSync(join(this.dir.root, 'collector.json'), JSON.stringify(config));
    this.collector = startProcess(this.dir.root, 'collector.json');
  }

  /** The uplink plugin's entry in the running collector's status, through its control socket. */
  async plugin(): Promise<{ state?: string; message?: string; details?: any }> {
    const status = await queryControlSocket(controlSocketPath(this.dir.dataDir), '/status').catch(() => undefined) as { plugins: Array<{ id: string; state?: string; message?: string; details?: any }> } | undefined;
    return status?.plugins.find((p) => p.id === 'uplink') ?? {};
  }

  async uplink(): Promise<{ server: string; strategy: string; targets: TargetView[]; queued: number; rejected: number }> {
    return (await this.plugin()).details ?? { targets: [] };
  }

  async target(url: string): Promise<TargetView | undefined> {
    return (await this.uplink()).targets.find((t) => t.server === url);
  }

  /**
   * Silences the meters, waits for the outbox to drain, stops the collector,
   * and checks that every reading it stored is in the shared database exactly
   * once, and that the database holds nothing else for these meters.
   */
  async expectEachReadingOnce(): Promise<void> {
    this.meter.sim.unit(1).faults = { silent: true };
    this.meter.sim.unit(2).faults = { silent: true };
    await new Promise((r) => setTimeout(r, 500));
    const outbox = new Database(join(this.dir.dataDir, 'plugins', 'uplink', 'outbox.db'), { readonly: true });
    await until('the outbox to drain', () => (outbox.prepare('SELECT COUNT(*) AS n FROM outbox').get() as { n: number }).n === 0, 30000);
    expect((outbox.prepare('SELECT COUNT(*) AS n FROM rejected').get() as { n: number }).n, 'rows set aside').to.equal(0);
    outbox.close();
    this.collector!.kill('SIGTERM');
    await exited(this.collector!);
    const local = await StorageService.open({
      target: { engine: 'sqlite', filename: join(this.dir.dataDir, 'meterhub.db') }, dataDir: this.dir.dataDir, spoolMaxRows: 1000, rollupIntervalMs: 60000,
      retention: { rawDays: null, minuteDays: null, hourDays: null, dayDays: null }, ingest: { maxBatch: 10, maxDelayMs: 5, maxPending: 100 },
    }, createLogger({ level: 'silent', pretty: false }));
    try {
      for (const meter of ['house', 'garage']) {
        const taken = await storedReadings({ storage: local } as never, meter);
        const stored = await rowsInDatabase(this.db, meter);
        expect(taken.size, `readings of ${meter}`).to.be.at.least(10);
        expect([...stored.keys()].sort(), meter).to.deep.equal([...taken.keys()].sort());
        expect([...stored.values()].filter((n) => n !== 1), `doubled rows of ${meter}`).to.deep.equal([]);
      }
    } finally {
      await local.close();
    }
  }

  async close(): Promise<void> {
    if (this.collector && this.collector.exitCode === null && this.collector.signalCode === null) {
      this.collector.kill('SIGKILL');
      await exited(this.collector);
    }
    await this.a?.kill('SIGTERM');
    await this.b?.kill('SIGTERM');
    await this.meter?.close();
    await this.db?.drop();
    this.dir.cleanup();
  }
}

describe('uplink to several central hosts sharing one PostgreSQL', function () {
  this.timeout(180000);
  let cluster: Cluster;

  beforeEach(() => {
    cluster = new Cluster();
  });
  afterEach(() => cluster.close());

  it('failover: kill -9 of the current host sends the stream to the other, stores each reading once, and goes back to the first once it is up', async () => {
    await cluster.start({ strategy: 'failover' });
    const { a, b } = cluster;
    await until('batches to the preferred host', async () => ((await cluster.target(a.url))?.batches ?? 0) >= 5, 60000);
    let view = await cluster.uplink();
    expect(view).to.include({ strategy: 'failover', server: a.url });
    expect(view.targets.map((t) => [t.server, t.state, t.current])).to.deep.equal([[a.url, 'up', true], [b.url, 'up', false]]);
    // Failover sends nothing to the second host while the first answers.
    expect(view.targets[1]!.batches).to.equal(0);

    await a.kill('SIGKILL');
    await until('the stream going to the second host', async () => ((await cluster.target(b.url))?.batches ?? 0) >= 5, 60000);
    view = await cluster.uplink();
    expect(view.server).to.equal(b.url);
    expect(view.targets[0]).to.include({ state: 'down', current: false });
    expect(view.targets[0]!.lastError?.message).to.include(a.url);
    expect(view.targets[1]).to.include({ state: 'up', current: true });
    // Still forwarding, but with one host fewer: degraded, naming it.
    const degraded = await cluster.plugin();
    expect(degraded.state).to.equal('degraded');
    expect(degraded.message).to.include(a.url);

    const before = view.targets[0]!.batches;
    await a.start();
    await until('the stream back on the preferred host', async () => {
      const t = await cluster.target(a.url);
      return t?.state === 'up' && t.current && t.batches >= before + 3;
    }, 60000);
    await until('running again', async () => (await cluster.plugin()).state === 'running');
    await cluster.expectEachReadingOnce();
  });

  it('round-robin: spreads batches over both hosts, each reading stored once', async () => {
    await cluster.start({ strategy: 'round-robin' });
    await until('batches on both hosts', async () => {
      const { targets } = await cluster.uplink();
      return targets.length === 2 && targets.every((t) => t.batches >= 5);
    }, 60000);
    const { targets, strategy } = await cluster.uplink();
    expect(strategy).to.equal('round-robin');
    expect(targets.every((t) => t.state === 'up' && t.readings > 0)).to.equal(true);
    await cluster.expectEachReadingOnce();
  });
});

describe('uplink: a list of central hosts in the config', function () {
  this.timeout(30000);

  it('meterhub validate names the JSON path of a bad entry, a repeated URL and an unknown strategy (exit 2)', async () => {
    const dir = tempDataDir();
    try {
      const file = join(dir.root, 'meterhub.json');
      const url = ['http://127.0.0.1:8001', 'ftp://127.0.0.1:8002', 'http://127.0.0.1:8001'];
      writeFileSync(file, JSON.stringify({ dataDir: dir.dataDir, plugins: { uplink: { config: { url, key: 'k'.repeat(24), strategy: 'random' } } } }));
      const failed = await run(process.execPath, [CLI, 'validate', '--config', file]).then(() => undefined, (e: { code: number; stderr: string }) => e);
      expect(failed?.code).to.equal(2);
      expect(failed!.stderr).to.include('/plugins/uplink/config/url/1').and.include('^https?://');
      expect(failed!.stderr).to.match(/\/plugins\/uplink\/config\/url\b.*duplicate/);
      expect(failed!.stderr).to.include('/plugins/uplink/config/strategy').and.include('round-robin');
      // An empty list is no list.
      writeFileSync(file, JSON.stringify({ dataDir: dir.dataDir, plugins: { uplink: { config: { url: [], key: 'k'.repeat(24) } } } }));
      const empty = await run(process.execPath, [CLI, 'validate', '--config', file]).then(() => undefined, (e: { code: number; stderr: string }) => e);
      expect(empty?.code).to.equal(2);
      expect(empty!.stderr).to.include('/plugins/uplink/config/url');
    } finally {
      dir.cleanup();
    }
  });
});
