import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import type { Host } from '../../../core/src/host.js';
import { tempDataDir } from '../../../core/test/helpers/temp-data-dir.js';
import { freePort, makeCertificates, PrivateBroker, Recorder, requireTool, retainedWithMosquittoSub, startHost, testRoot, until } from './mqtt-rig.js';

describe('mqtt plugin: WebSocket, TLS with a private CA, broker credentials', function () {
  this.timeout(60000);
  const t = testRoot();
  let dir: ReturnType<typeof tempDataDir>;
  let broker: PrivateBroker;
  let caFile: string;
  let wsPort: number;
  let tlsPort: number;
  let rec: Recorder;

  before(async () => {
    dir = tempDataDir();
    const certs = makeCertificates(dir.root);
    caFile = certs.caFile;
    requireTool('mosquitto_passwd', 'mosquitto');
    const passwd = join(dir.root, 'passwd');
    if (spawnSync('mosquitto_passwd', ['-c', '-b', passwd, 'meterhub', 'right-password']).status !== 0) throw new Error('mosquitto_passwd failed');
    // Started as root, mosquitto drops to its own user before it reads the key and password files.
    chmodSync(dir.root, 0o755);
    for (const f of [certs.keyFile, passwd]) chmodSync(f, 0o644);
    [wsPort, tlsPort] = [await freePort(), await freePort()];
    broker = new PrivateBroker(await freePort(), dir.root, [
      `listener ${wsPort} 127.0.0.1`, 'protocol websockets', 'allow_anonymous true',
      `listener ${tlsPort} 127.0.0.1`, `cafile ${certs.caFile}`, `certfile ${certs.certFile}`, `keyfile ${certs.keyFile}`,
      `password_file ${passwd}`, 'allow_anonymous false', '',
    ].join('\n'));
    await broker.start();
    rec = await Recorder.start(broker.port, `${t.root}/#`);
  });

  after(async () => {
    await rec?.close();
    await broker?.stop();
    dir?.cleanup();
  });

  async function withPlugin(config: Record<string, unknown>, fn: (host: Host) => Promise<void>): Promise<void> {
    const hostDir = tempDataDir();
    const host = await startHost({
      dataDir: hostDir.dataDir, http: { port: 0 },
      buses: [{ id: 'rs485', transport: 'modbus-tcp', host: '127.0.0.1', port: 1 }],
      meters: [{ id: 'house', driver: 'sdm230', bus: 'rs485', unitId: 1, enabled: false }],
      plugins: { mqtt: { required: true, config: { homeAssistant: { discoveryPrefix: t.discovery }, reconnect: { initialMs: 50, maxMs: 200 }, ...config } } },
    }, hostDir.root);
    try {
      await fn(host);
    } finally {
      await host.stop();
      hostDir.cleanup();
    }
  }
  const report = (host: Host) => host.plugins.reports().find((p) => p.id === 'mqtt')!;

  it('publishes over ws://, retaining states when asked to', async () => {
    const prefix = `${t.root}/ws`;
    await withPlugin({ url: `ws://127.0.0.1:${wsPort}`, topicPrefix: prefix, retain: true, publish: 'both' }, async (host) => {
      await rec.waitFor('the host online', () => rec.on(`${prefix}/status`).some((m) => m.payload === 'online'));
      host.bus.publish({ meterId: 'house', ts: Date.now(), values: { power: 17 } });
      await rec.waitFor('a state', () => rec.on(`${prefix}/house/state`).some((m) => m.payload.includes('"power":17')));
      await rec.waitFor('the value', () => rec.on(`${prefix}/house/power`).some((m) => m.payload === '17'));
      const retained = retainedWithMosquittoSub(broker.port, prefix);
      expect(JSON.parse(retained.get(`${prefix}/house/state`)!)).to.have.nested.property('values.power', 17);
      expect(retained.get(`${prefix}/house/power`)).to.equal('17');
    });
  });

  it('publishes over mqtts:// trusting the configured CA, with a user and password', async () => {
    const prefix = `${t.root}/tls`;
    await withPlugin({ url: `mqtts://127.0.0.1:${tlsPort}`, caFile, username: 'meterhub', password: 'right-password', topicPrefix: prefix }, async () => {
      await rec.waitFor('the host online', () => rec.on(`${prefix}/status`).some((m) => m.payload === 'online'));
    });
  });

  it('is degraded with the broker\'s reason on a wrong password, which it never repeats', async () => {
    const prefix = `${t.root}/denied`;
    await withPlugin({ url: `mqtts://127.0.0.1:${tlsPort}`, caFile, username: 'meterhub', password: 'wrong-password', topicPrefix: prefix }, async (host) => {
      await until('degraded', () => report(host).state === 'degraded');
      await until('the reason', () => /not authorized|bad user name or password/i.test(report(host).message ?? ''));
      expect(JSON.stringify(report(host))).to.not.contain('wrong-password');
      expect(rec.on(`${prefix}/status`)).to.deep.equal([]);
    });
  });

  it('refuses a broker certificate from another CA', async () => {
    const prefix = `${t.root}/untrusted`;
    await withPlugin({ url: `mqtts://127.0.0.1:${tlsPort}`, username: 'meterhub', password: 'right-password', topicPrefix: prefix }, async (host) => {
      await until('degraded', () => report(host).state === 'degraded');
      expect(report(host).message).to.match(/certificate/i);
    });
  });
});
