import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Host } from '../../../core/src/host.js';
import { tempDataDir } from '../../../core/test/helpers/temp-data-dir.js';
import { clearRetained, freePort, PrivateBroker, Recorder, retainedWithMosquittoSub, SHARED_PORT, startHost, testRoot, until } from './mqtt-rig.js';

const CLI = fileURLToPath(new URL('../../../packages/meterhub/bin/meterhub.js', import.meta.url));

const exited = (child: ChildProcess) => new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(null) : child.once('exit', r)));

function pluginReport(host: Host) {
  return host.plugins.reports().find((p) => p.id === 'mqtt')!;
}

/** A meter whose readings are pushed (its bus is never polled), as an ingest or a forwarder delivers them. */
function pushedHostConfig(dataDir: string, mqttConfig: Record<string, unknown>): Record<string, unknown> {
  return {
    name: 'home', dataDir, http: { port: 0 },
    buses: [{ id: 'rs485', transport: 'modbus-tcp', host: '127.0.0.1', port: 1 }],
    meters: [{ id: 'house', driver: 'sdm230', bus: 'rs485', unitId: 1, enabled: false }, { id: 'shed', driver: 'sdm230', bus: 'rs485', unitId: 2, enabled: false }],
    plugins: { mqtt: { required: true, config: mqttConfig } },
  };
}

describe('mqtt plugin: failures', function () {
  this.timeout(90000);

  it('leaves the host "offline" (retained last will) when the host process is killed, and never logs the password', async () => {
    const t = testRoot();
    const dir = tempDataDir();
    const password = 'pw-never-in-logs-7f3a';
    writeFileSync(join(dir.root, 'config.json'), JSON.stringify({
      dataDir: './data', http: { port: 0 }, log: { level: 'debug' },
      plugins: { mqtt: { config: { url: `mqtt://127.0.0.1:${SHARED_PORT}`, username: 'meterhub', password, topicPrefix: t.prefix, homeAssistant: { discoveryPrefix: t.discovery } } } },
    }));
    const rec = await Recorder.start(SHARED_PORT, `${t.root}/#`);
    let output = '';
    const child = spawn(process.execPath, [CLI, 'start', '--config', join(dir.root, 'config.json')], { cwd: dir.root, stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env['PATH'] } });
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    try {
      await rec.waitFor('the host online', () => rec.on(`${t.prefix}/status`).some((m) => m.payload === 'online'), 30000);
      child.kill('SIGKILL');
      await exited(child);
      await rec.waitFor('the last will', () => rec.on(`${t.prefix}/status`).at(-1)?.payload === 'offline', 15000);
      expect(retainedWithMosquittoSub(SHARED_PORT, t.root).get(`${t.prefix}/status`)).to.equal('offline');
      expect(output).to.contain(`publishing to MQTT broker mqtt://127.0.0.1:${SHARED_PORT}`);
      expect(output).to.not.contain(password);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await rec.close();
      await clearRetained(SHARED_PORT, t.root);
      dir.cleanup();
    }
  });

  it('survives a broker restart mid-stream: degraded meanwhile, nothing out of order, the newest state arrives', async () => {
    const t = testRoot();
    const dir = tempDataDir();
    const broker = new PrivateBroker(await freePort(), dir.root);
    await broker.start();
    const rec = await Recorder.start(broker.port, `${t.root}/#`);
    const host = await startHost(pushedHostConfig(dir.dataDir, {
      url: `mqtt://127.0.0.1:${broker.port}`, topicPrefix: t.prefix, homeAssistant: { discoveryPrefix: t.discovery }, reconnect: { initialMs: 50, maxMs: 400 },
    }), dir.root);
    let seq = 0;
    const push = () => {
      seq++;
      host.bus.publish({ meterId: 'house', ts: Date.now(), values: { power: seq, importEnergy: seq } });
    };
    const producer = setInterval(push, 20);
    const received = () => rec.on(`${t.prefix}/house/state`).map((m) => (JSON.parse(m.payload) as { values: { power: number } }).values.power);
    try {
      await rec.waitFor('states before the restart', () => received().length >= 10);
      await broker.stop();
      await until('the plugin degraded', () => pluginReport(host).state === 'degraded');
      expect(pluginReport(host).message).to.match(/MQTT broker mqtt:\/\/127\.0\.0\.1:\d+/);
      const duringOutage = seq;
      await until('readings during the outage', () => seq >= duringOutage + 15);
      // Storage does not wait for the broker.
      await until('storage keeping up during the outage', () => (host.storage!.latest('house', 'power')?.values['power'] ?? 0) >= duringOutage + 15);
      // Bounded: the newest state of the one meter waits, not the readings of the outage.
      await until('the status to show one meter waiting', () => pluginReport(host).details?.['queuedMeters'] === 1);
      const atRestart = seq;
      await broker.start();
      await until('the plugin healthy again', () => pluginReport(host).state === 'running');
      await rec.waitFor('states after the restart', () => received().some((p) => p > duringOutage + 15));
      clearInterval(producer);
      const last = seq;
      await rec.waitFor('the newest state', () => received().includes(last));
      const values = received();
      expect(values.filter((p) => p > duringOutage && p <= atRestart).length, 'states from the outage').to.be.at.most(2);
      for (let i = 1; i < values.length; i++) expect(values[i]!, `message ${i} after ${values[i - 1]}`).to.be.at.least(values[i - 1]!);
      // Discovery and the host status are back on the restarted broker (it kept nothing).
      expect(rec.on(`${t.prefix}/status`).filter((m) => m.payload === 'online')).to.have.length.at.least(2);
    } finally {
      clearInterval(producer);
      await host.stop();
      await rec.close();
      await broker.stop();
      dir.cleanup();
    }
  });

  it('reconnects with a doubling back-off while the broker refuses', async () => {
    // A "broker" that accepts TCP and hangs up at once: each connection is one attempt of the plugin.
    const attempts: number[] = [];
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      attempts.push(Date.now());
      socket.destroy();
    });
    server.on('connection', (s) => sockets.add(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const dir = tempDataDir();
    const host = await startHost(pushedHostConfig(dir.dataDir, {
      url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`, topicPrefix: testRoot().prefix, reconnect: { initialMs: 50, maxMs: 800 },
    }), dir.root);
    try {
      await until('six attempts', () => attempts.length >= 6, 20000);
      expect(pluginReport(host).state).to.equal('degraded');
      const gaps = attempts.slice(1).map((t, i) => t - attempts[i]!);
      // 50, 100, 200, 400, 800 ms: each gap at least its back-off (timers never fire early).
      [50, 100, 200, 400, 800].forEach((min, i) => expect(gaps[i]!, `gap ${i + 1} of ${gaps.join(', ')}`).to.be.at.least(min - 5));
    } finally {
      await host.stop();
      server.close();
      for (const s of sockets) s.destroy();
      dir.cleanup();
    }
  });

  it('publishes a meter at most every minIntervalS (or its own interval); the newest values win', async () => {
    const t = testRoot();
    const dir = tempDataDir();
    const rec = await Recorder.start(SHARED_PORT, `${t.root}/#`);
    const host = await startHost(pushedHostConfig(dir.dataDir, {
      url: `mqtt://127.0.0.1:${SHARED_PORT}`, topicPrefix: t.prefix, publish: 'values', minIntervalS: 0.5, meterMinIntervalS: { shed: 0 }, homeAssistant: { enabled: false },
    }), dir.root);
    try {
      await until('connected', () => pluginReport(host).details?.['connected'] === true);
      const started = Date.now();
      let seq = 0;
      await new Promise<void>((resolve) => {
        const timer = setInterval(() => {
          seq++;
          host.bus.publish({ meterId: 'house', ts: Date.now(), values: { power: seq } });
          host.bus.publish({ meterId: 'shed', ts: Date.now(), values: { power: seq } });
          if (Date.now() - started >= 1500) {
            clearInterval(timer);
            resolve();
          }
        }, 20);
      });
      const elapsed = Date.now() - started;
      await rec.waitFor('the newest value', () => rec.on(`${t.prefix}/house/power`).some((m) => Number(m.payload) === seq));
      const messages = rec.on(`${t.prefix}/house/power`);
      expect(messages.length).to.be.at.most(Math.ceil(elapsed / 500) + 1);
      expect(Number(messages.at(-1)!.payload)).to.equal(seq);
      // Its own interval 0: no throttle (readings merge only while its previous state awaits the broker's ack).
      await rec.waitFor('the shed\'s newest value', () => rec.on(`${t.prefix}/shed/power`).some((m) => Number(m.payload) === seq));
      expect(rec.on(`${t.prefix}/shed/power`).length).to.be.greaterThan(3 * (Math.ceil(elapsed / 500) + 1));
      // Discovery off: nothing under the discovery prefix.
      expect(rec.messages.filter((m) => m.topic.startsWith(`${t.discovery}/`))).to.deep.equal([]);
    } finally {
      await host.stop();
      await rec.close();
      await clearRetained(SHARED_PORT, t.root);
      dir.cleanup();
    }
  });
});
