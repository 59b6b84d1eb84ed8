import { expect } from 'chai';
import type { Reading } from '@meterhub/sdk';
import { join } from 'node:path';
import type { Host } from '../../../core/src/host.js';
import { tempDataDir } from '../../../core/test/helpers/temp-data-dir.js';
import { builtinDriver } from '../../../test-support/builtin-drivers.js';
import { Outbox } from '../src/outbox.js';
import { collectorConfig, FaultyProxy, makeCertificates, startCentral, startCollector, startMeter, storedReadings, until } from './uplink-rig.js';

const uplinkDetails = (host: Host) => host.status().plugins.find((p) => p.id === 'uplink')!.details as Record<string, any>;

describe('uplink: an edge collector forwarding to a central meterhub', function () {
  this.timeout(90000);
  let central: Awaited<ReturnType<typeof startCentral>>;
  let meter: Awaited<ReturnType<typeof startMeter>>;
  let dir: ReturnType<typeof tempDataDir>;
  let collector: Host | undefined;
  let proxy: FaultyProxy | undefined;

  beforeEach(async () => {
    central = await startCentral();
    meter = await startMeter();
    dir = tempDataDir();
  });
  afterEach(async () => {
    await collector?.stop();
    collector = undefined;
    proxy?.close();
    proxy = undefined;
    await meter.close();
    await central.cleanup();
    dir.cleanup();
  });

  /** Stops the meter, waits for the outbox to drain, and compares what both hosts stored. */
  async function expectSameOnBothSides(minimum: number): Promise<Map<string, string>> {
    meter.sim.unit(1).faults = { silent: true };
    await new Promise((r) => setTimeout(r, 500));
    await until('the outbox to drain', () => uplinkDetails(collector!)['queued'] === 0, 30000);
    const local = await storedReadings(collector!);
    const remote = await storedReadings(central.host);
    expect(local.size).to.be.at.least(minimum);
    expect([...remote.keys()].sort()).to.deep.equal([...local.keys()].sort());
    for (const [k, v] of local) expect(remote.get(k), k).to.equal(v);
    return local;
  }

  it('forwards every reading, once, in batches', async () => {
    collector = await startCollector(collectorConfig(dir.dataDir, meter.port, { url: `http://127.0.0.1:${central.host.http.port}`, key: central.key }), dir.root);
    await until('readings on the central host', async () => (await storedReadings(central.host)).size >= 10);
    await expectSameOnBothSides(10);
    const details = uplinkDetails(collector);
    expect(details).to.include({ enabled: true, server: `http://127.0.0.1:${central.host.http.port}`, rejected: 0, dropped: 0 });
    expect(details['lastSuccess']).to.be.a('string');
    expect(JSON.stringify(collector.status())).to.not.include(central.key);
  });

  it('sends each batch in one request to /api/readings/; to an older central host without it, one request per meter and family', async () => {
    proxy = new FaultyProxy(central.host.http.port);
    const url = `http://127.0.0.1:${await proxy.listen()}`;
    collector = await startCollector(collectorConfig(dir.dataDir, meter.port, { url, key: central.key }), dir.root);
    await until('readings on the central host', async () => (await storedReadings(central.host)).size >= 5);
    expect(proxy.paths.get('POST /api/readings/')).to.be.at.least(1);
    expect([...proxy.paths.keys()].filter((p) => p.includes('{id}'))).to.deep.equal([]);
    // Now an older version answers there: the collector asks the bulk path once, then posts per meter.
    proxy.mode = 'old';
    proxy.paths.clear();
    await until('per-meter posts', () => (proxy!.paths.get('POST /api/meters/{id}/power/') ?? 0) >= 3);
    expect(proxy.paths.get('POST /api/readings/')).to.equal(1);
    await expectSameOnBothSides(10);
    expect(proxy.paths.get('POST /api/readings/')).to.equal(1);
    expect(uplinkDetails(collector)).to.include({ rejected: 0, dropped: 0 });
  });

  it('a group the central host finds invalid is set aside on its own; the other meters of the same request are stored', async () => {
    // On the central host "pump" is an SDM630: the SDM230's demand and resettable counters are not its measurements.
    await central.host.meters!.create({ id: 'pump', driver: 'sdm630' });
    meter.sim.addUnit(2, builtinDriver('sdm230'));
    const config = collectorConfig(dir.dataDir, meter.port, { url: `http://127.0.0.1:${central.host.http.port}`, key: central.key });
    (config['meters'] as Array<Record<string, unknown>>).push({ id: 'pump', driver: 'sdm230', bus: 'rs485', unitId: 2, intervals: { instantMs: 200, counterMs: 200 } });
    collector = await startCollector(config, dir.root);
    await until('rejected rows of pump', () => Number(uplinkDetails(collector!)['rejected']) >= 6);
    expect(uplinkDetails(collector)['lastError'].message).to.include('invalid').and.include('/values/');
    await expectSameOnBothSides(5);
    expect((await storedReadings(central.host, 'pump')).size).to.equal(0);
    expect((await storedReadings(collector, 'pump')).size).to.be.at.least(3);
  });

  it('forwards to a central host served under a base path when the URL names it', async () => {
    const sub = await startCentral({}, { basePath: '/central/' });
    try {
      collector = await startCollector(collectorConfig(dir.dataDir, meter.port, { url: `http://127.0.0.1:${sub.host.http.port}/central`, key: sub.key }), dir.root);
      await until('readings on the central host under /central/', async () => (await storedReadings(sub.host)).size >= 3);
      expect(uplinkDetails(collector)).to.include({ rejected: 0 });
    } finally {
      await collector?.stop();
      collector = undefined;
      await sub.cleanup();
    }
  });

  it('keeps readings while the central host is down and delivers all of them when it is back', async () => {
    proxy = new FaultyProxy(central.host.http.port);
    proxy.mode = 'down';
    const port = await proxy.listen();
    collector = await startCollector(collectorConfig(dir.dataDir, meter.port, { url: `http://127.0.0.1:${port}`, key: central.key }), dir.root);
    await until('a backlog', () => Number(uplinkDetails(collector!)['queued']) >= 20);
    const plugin = collector.status().plugins.find((p) => p.id === 'uplink')!;
    expect(plugin.state).to.equal('degraded');
    expect(uplinkDetails(collector)['lastError'].message).to.match(/unreachable/);
    expect(uplinkDetails(collector)['oldestAgeSeconds']).to.be.a('number');
    expect((await storedReadings(central.host)).size).to.equal(0);
    // Monitoring sees the backlog on /health/, without the server's address.
    const health = await (await fetch(`http://127.0.0.1:${collector.http.port}/health/`)).json() as Record<string, any>;
    expect(health['uplink']['queued']).to.be.at.least(20);
    expect(health['uplink']['lastErrorAt']).to.be.a('string');
    expect(health['plugins'].find((p: { id: string }) => p.id === 'uplink')).to.include({ state: 'degraded' });
    expect(JSON.stringify(health)).to.not.include(String(port));
    proxy.mode = 'pass';
    await expectSameOnBothSides(20);
    await until('healthy again', () => collector!.status().plugins.find((p) => p.id === 'uplink')!.state === 'running');
  });

  it('rides out 500s and answers that come too late, without losing or doubling a reading', async () => {
    proxy = new FaultyProxy(central.host.http.port);
    proxy.mode = 'flaky';
    const port = await proxy.listen();
    collector = await startCollector(collectorConfig(dir.dataDir, meter.port, { url: `http://127.0.0.1:${port}`, key: central.key }), dir.root);
    await until('a dozen requests through the flaky proxy', () => proxy!.requests >= 12, 30000);
    await expectSameOnBothSides(20);
    expect(proxy.requests).to.be.at.least(12);
  });

  it('with a list, a host answering 500s or too late is left for the next one at once, and gets the stream back once it answers', async () => {
    proxy = new FaultyProxy(central.host.http.port);
    proxy.mode = 'flaky';
    const second = new FaultyProxy(central.host.http.port);
    const [first, other] = [`http://127.0.0.1:${await proxy.listen()}`, `http://127.0.0.1:${await second.listen()}`];
    try {
      collector = await startCollector(collectorConfig(dir.dataDir, meter.port, { url: [first, other], key: central.key }), dir.root);
      const target = (url: string) => (uplinkDetails(collector!)['targets'] as Array<Record<string, any>>).find((t) => t['server'] === url)!;
      await until('batches on the second host', () => target(other)['batches'] >= 3, 30000);
      expect(target(first)['lastError'].message).to.match(/answered 500|unreachable/);
      proxy.mode = 'pass';
      const before = target(first)['batches'] as number;
      await until('the first host current again', () => target(first)['current'] === true && target(first)['batches'] > before + 2, 30000);
      await expectSameOnBothSides(20);
    } finally {
      second.close();
    }
  });

  it('speaks TLS to a server whose certificate comes from a private CA given in caFile, and refuses it without', async () => {
    const certs = makeCertificates(join(dir.root, 'tls'));
    proxy = new FaultyProxy(central.host.http.port, certs);
    const port = await proxy.listen();
    // Without the CA the server is not trusted: nothing is sent, everything stays queued.
    collector = await startCollector(collectorConfig(dir.dataDir, meter.port, { url: `https://127.0.0.1:${port}`, key: central.key }), dir.root);
    await until('a refused TLS handshake', () => /certificate/i.test(String(uplinkDetails(collector!)['lastError']?.message ?? '')));
    expect((await storedReadings(central.host)).size).to.equal(0);
    await collector.stop();
    collector = await startCollector(collectorConfig(dir.dataDir, meter.port, { url: `https://127.0.0.1:${port}`, key: central.key, caFile: certs.caFile }), dir.root);
    // The readings queued by the first run go out too.
    await expectSameOnBothSides(5);
  });

  it('maps a local meter id to the central host\'s id', async () => {
    const config = collectorConfig(dir.dataDir, meter.port, { url: `http://127.0.0.1:${central.host.http.port}`, key: central.key, meterMap: { main: 'house' } });
    (config['meters'] as Array<Record<string, unknown>>)[0]!['id'] = 'main';
    collector = await startCollector(config, dir.root);
    await until('readings of "main" stored as "house"', async () => (await storedReadings(central.host)).size >= 6);
    meter.sim.unit(1).faults = { silent: true };
    await new Promise((r) => setTimeout(r, 500));
    await until('the outbox to drain', () => uplinkDetails(collector!)['queued'] === 0);
    expect([...(await storedReadings(central.host)).keys()].sort()).to.deep.equal([...(await storedReadings(collector, 'main')).keys()].sort());
  });

  it('a pure collector (no local history) forwards every reading; with createMeters it creates a pushed meter on the central host, live there', async () => {
    const { key } = await central.host.accounts!.keys.create('collector with meters', ['ingest', 'meters:write'], null);
    const config = collectorConfig(dir.dataDir, meter.port, { url: `http://127.0.0.1:${central.host.http.port}`, key, createMeters: {} });
    const forwarded: Reading[] = [];
    const off = central.host.readings.subscribe((r) => {
      if (r.meterId === 'garage') forwarded.push(r);
    });
    (config['meters'] as Array<Record<string, unknown>>)[0]!['id'] = 'garage';
    config['storage'] = { keepHistory: false };
    collector = await startCollector(config, dir.root);
    const taken = new Set<string>();
    collector.bus.subscribe((r) => {
      if (Object.keys(r.values).some((m) => m === 'voltageL1')) taken.add(`power@${r.ts}`);
      if (Object.keys(r.values).some((m) => m === 'importEnergy')) taken.add(`energy@${r.ts}`);
    });
    await until('readings of the created meter', async () => (await central.host.meters!.get('garage')) !== undefined && (await storedReadings(central.host, 'garage')).size >= 6);
    const created = await central.host.meters!.get('garage');
    expect(created).to.include({ driver: 'sdm230', enabled: true });
    expect(created).to.not.have.property('bus');
    // Forwarded readings take the central host's one path: published live as `uplink`, the meter online with a true lastSeen.
    await until('forwarded readings published live', () => forwarded.length > 0);
    off();
    expect(forwarded.every((r) => r.source === 'uplink')).to.equal(true);
    await until('the created meter online', () => central.host.meterStates.current().some((e) => e.meterId === 'garage' && e.state === 'online'));
    const state = central.host.meterStates.current().find((e) => e.meterId === 'garage')!;
    expect(Date.now() - Date.parse(state.lastSeen!)).to.be.below(10000);
    meter.sim.unit(1).faults = { silent: true };
    await new Promise((r) => setTimeout(r, 500));
    await until('the outbox to drain', () => uplinkDetails(collector!)['queued'] === 0);
    // Nothing stored locally but the latest values; everything taken is on the central host.
    expect((await storedReadings(collector, 'garage')).size).to.equal(0);
    expect(collector.storage!.latest('garage', 'power')).to.not.equal(undefined);
    const remote = await storedReadings(central.host, 'garage');
    expect([...taken].filter((k) => !remote.has(k))).to.deep.equal([]);
  });

  it('a meter the central host does not know is set aside in the outbox, not dropped and not retried forever', async () => {
    const config = collectorConfig(dir.dataDir, meter.port, { url: `http://127.0.0.1:${central.host.http.port}`, key: central.key });
    (config['meters'] as Array<Record<string, unknown>>)[0]!['id'] = 'garage';
    collector = await startCollector(config, dir.root);
    await until('rejected rows', () => Number(uplinkDetails(collector!)['rejected']) >= 10);
    const details = uplinkDetails(collector);
    expect(details['lastError'].message).to.include('404').and.include('no meter');
    // Set aside rather than resent: the outbox itself stays short.
    expect(details['queued']).to.be.below(10);
    expect(details['sent']).to.equal(0);
  });
});

describe('uplink outbox: cap policy', () => {
  it('drops the oldest instantaneous values beyond the cap and keeps every counter', () => {
    const dir = tempDataDir();
    const outbox = new Outbox(join(dir.root, 'outbox.db'));
    try {
      for (let i = 0; i < 150; i++) outbox.add({ meterId: 'house', ts: 1000 * i, values: { power: i, importEnergy: 100 + i } });
      expect(outbox.size).to.equal(300);
      expect(outbox.enforceCap(200)).to.equal(100);
      const rows = outbox.oldest(1000);
      expect(rows.filter((r) => r.family === 'energy')).to.have.length(150);
      const power = rows.filter((r) => r.family === 'power');
      expect(power.map((r) => r.ts)).to.deep.equal(Array.from({ length: 50 }, (_, k) => 1000 * (100 + k)));
      // The outbox survives a reopen with its rows.
      outbox.close();
      const again = new Outbox(join(dir.root, 'outbox.db'));
      expect(again.size).to.equal(200);
      again.close();
    } finally {
      dir.cleanup();
    }
  });
});
