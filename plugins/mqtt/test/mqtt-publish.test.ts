import { expect } from 'chai';
import { isMeasurementId, MeterSimulator, SimulatorTcpEndpoint } from '@meterhub/sdk';
import mqtt from 'mqtt';
import { builtinDriver } from '../../../test-support/builtin-drivers.js';
import type { Host } from '../../../core/src/host.js';
import { tempDataDir } from '../../../core/test/helpers/temp-data-dir.js';
import { clearRetained, Recorder, retainedWithMosquittoSub, SHARED_PORT, startHost, testRoot, until } from './mqtt-rig.js';

describe('mqtt plugin against the local Mosquitto', function () {
  this.timeout(60000);
  const t = testRoot();
  let dir: ReturnType<typeof tempDataDir>;
  let endpoint: SimulatorTcpEndpoint;
  let sim: MeterSimulator;
  let host: Host;
  let rec: Recorder;

  before(async () => {
    sim = new MeterSimulator();
    sim.addUnit(1, builtinDriver('sdm230'));
    endpoint = new SimulatorTcpEndpoint(sim, { framing: 'mbap' });
    const port = await endpoint.listen();
    dir = tempDataDir();
    rec = await Recorder.start(SHARED_PORT, `${t.root}/#`);
    host = await startHost({
      name: 'home', dataDir: dir.dataDir, http: { port: 0 },
      buses: [{ id: 'rs485', transport: 'modbus-tcp', host: '127.0.0.1', port, interRequestDelayMs: 2, unitSwitchDelayMs: 0, responseTimeoutMs: 300 }],
      meters: [
        { id: 'house', name: 'House', driver: 'sdm230', bus: 'rs485', unitId: 1, intervals: { instantMs: 250, counterMs: 250 } },
        // Not polled: its readings are pushed by the test.
        { id: 'garage', driver: 'sdm230', bus: 'rs485', unitId: 3, enabled: false, measurements: ['power', 'importEnergy'] },
      ],
      plugins: { mqtt: { required: true, config: { url: `mqtt://127.0.0.1:${SHARED_PORT}`, topicPrefix: t.prefix, publish: 'both', homeAssistant: { discoveryPrefix: t.discovery } } } },
    }, dir.root);
  });

  after(async () => {
    await host?.stop();
    await rec?.close();
    await endpoint?.close();
    await clearRetained(SHARED_PORT, t.root);
    dir?.cleanup();
  });

  const states = () => rec.on(`${t.prefix}/house/state`).map((m) => JSON.parse(m.payload) as { ts: number; time: string; values: Record<string, number> });

  it('publishes the host status, the meter availability and its state as JSON with vocabulary ids', async () => {
    await rec.waitFor('a few states', () => states().length >= 3);
    expect(rec.on(`${t.prefix}/status`).map((m) => m.payload)).to.include('online');
    expect(rec.on(`${t.prefix}/house/availability`).map((m) => m.payload)).to.include('online');
    const last = states().at(-1)!;
    expect(last.time).to.equal(new Date(last.ts).toISOString());
    expect(Object.keys(last.values)).to.include.members(['voltageL1', 'power', 'importEnergy', 'frequency']);
    for (const [id, v] of Object.entries(last.values)) {
      expect(isMeasurementId(id), id).to.equal(true);
      expect(v, id).to.be.a('number');
    }
    // The same values the host stored for that cycle.
    await until('storage to hold a published cycle', () => states().some((s) => s.ts === host.storage!.latest('house', 'power')?.ts));
    const stored = host.storage!.latest('house', 'power')!;
    const published = states().find((s) => s.ts === stored.ts)!;
    for (const [id, v] of Object.entries(stored.values)) expect(published.values[id], id).to.equal(v);
  });

  it('publishes one plain number per measurement in values mode, equal to the JSON state', async () => {
    await rec.waitFor('value topics', () => rec.on(`${t.prefix}/house/voltageL1`).length > 0 && rec.on(`${t.prefix}/house/importEnergy`).length > 0);
    const voltage = rec.on(`${t.prefix}/house/voltageL1`).at(-1)!.payload;
    expect(voltage).to.match(/^-?\d+(\.\d+)?(e[-+]?\d+)?$/);
    expect(states().map((s) => s.values['voltageL1'])).to.include(Number(voltage));
  });

  it('retains status, availability and discovery configs but not states (retain: false)', () => {
    const retained = retainedWithMosquittoSub(SHARED_PORT, t.root);
    expect(retained.get(`${t.prefix}/status`)).to.equal('online');
    expect(retained.get(`${t.prefix}/house/availability`)).to.equal('online');
    expect(retained.has(`${t.prefix}/house/state`)).to.equal(false);
    expect(retained.has(`${t.prefix}/house/voltageL1`)).to.equal(false);
    const configs = [...retained.keys()].filter((k) => k.startsWith(`${t.discovery}/sensor/`) && k.includes('_house_'));
    expect(configs).to.have.length(builtinDriver('sdm230').byMeasurement.size);
    expect(retained.has(`${t.discovery}/binary_sensor/${t.prefix.replace(/\//g, '_')}_status/config`)).to.equal(true);
  });

  it('never publishes an energy counter as 0 or lower than before (Home Assistant would count a reset)', async () => {
    const pushed = (power: number, importEnergy: number) => host.bus.publish({ meterId: 'garage', ts: Date.now(), values: { power, importEnergy } });
    const garage = () => rec.on(`${t.prefix}/garage/state`).map((m) => (JSON.parse(m.payload) as { values: Record<string, number> }).values);
    pushed(10, 0);
    await rec.waitFor('the first state', () => garage().length === 1);
    expect(garage()[0]).to.deep.equal({ power: 10 });
    pushed(11, 7);
    await rec.waitFor('the counter', () => garage().length === 2);
    pushed(12, 3);
    await rec.waitFor('a lower counter', () => garage().length === 3);
    pushed(13, 0);
    await rec.waitFor('a zero counter', () => garage().length === 4);
    pushed(14, 8);
    await rec.waitFor('a higher counter', () => garage().length === 5);
    expect(garage()).to.deep.equal([{ power: 10 }, { power: 11, importEnergy: 7 }, { power: 12, importEnergy: 7 }, { power: 13, importEnergy: 7 }, { power: 14, importEnergy: 8 }]);
    expect(rec.on(`${t.prefix}/garage/importEnergy`).map((m) => m.payload)).to.deep.equal(['7', '8']);
  });

  it('ignores a reading older than the newest, unless the clock was set back by minutes', async () => {
    const at = (ts: number, power: number) => host.bus.publish({ meterId: 'garage', ts, values: { power } });
    const powers = () => rec.on(`${t.prefix}/garage/state`).map((m) => (JSON.parse(m.payload) as { values: { power: number } }).values.power);
    const now = Date.now() + 1000;
    at(now, 20);
    await rec.waitFor('the newest', () => powers().includes(20));
    at(now - 2000, 21);
    at(now + 1, 22);
    await rec.waitFor('the next', () => powers().includes(22));
    at(now - 10 * 60_000, 23);
    await rec.waitFor('the state after the clock step', () => powers().includes(23));
    expect(powers()).to.not.include(21);
  });

  it('re-announces discovery and availability when Home Assistant sends its birth message', async () => {
    const configTopic = `${t.discovery}/sensor/${t.prefix.replace(/\//g, '_')}_house_importEnergy/config`;
    const configsBefore = rec.on(configTopic).length;
    const availabilityBefore = rec.on(`${t.prefix}/house/availability`).length;
    const ha = await mqtt.connectAsync(`mqtt://127.0.0.1:${SHARED_PORT}`, { clientId: `mhtest-ha-${t.root}` });
    await ha.publishAsync(`${t.discovery}/status`, 'online', { qos: 1 });
    await ha.endAsync();
    await rec.waitFor('the discovery config again', () => rec.on(configTopic).length > configsBefore);
    await rec.waitFor('the availability again', () => rec.on(`${t.prefix}/house/availability`).length > availabilityBefore);
    // A message other than "online" (Home Assistant's last will) triggers nothing.
    expect(rec.on(configTopic).at(-1)!.payload).to.equal(rec.on(configTopic)[0]!.payload);
  });

  it('follows the meter\'s polling state on its retained availability topic', async () => {
    sim.unit(1).faults = { silent: true };
    await rec.waitFor('the meter offline', () => rec.on(`${t.prefix}/house/availability`).at(-1)?.payload === 'offline');
    expect(retainedWithMosquittoSub(SHARED_PORT, t.root).get(`${t.prefix}/house/availability`)).to.equal('offline');
    sim.unit(1).faults = {};
    await rec.waitFor('the meter back online', () => rec.on(`${t.prefix}/house/availability`).at(-1)?.payload === 'online');
  });

  it('removes a deleted meter\'s discovery entries and retained topics with empty retained payloads', async () => {
    await host.meters!.create({ id: 'shed', name: 'Shed', driver: 'sdm230', bus: 'rs485', unitId: 2, enabled: false, measurements: ['power', 'importEnergy'] });
    const ns = t.prefix.replace(/\//g, '_');
    const shedConfigs = [`${t.discovery}/sensor/${ns}_shed_power/config`, `${t.discovery}/sensor/${ns}_shed_importEnergy/config`];
    await rec.waitFor('the new meter\'s discovery', () => shedConfigs.every((c) => rec.on(c).length > 0));
    // A pushed meter has no polling state: its first reading makes it available.
    host.bus.publish({ meterId: 'shed', ts: Date.now(), values: { power: 42, importEnergy: 0 } });
    await rec.waitFor('the shed\'s availability', () => rec.on(`${t.prefix}/shed/availability`).some((m) => m.payload === 'online'));
    await rec.waitFor('the shed\'s state', () => rec.on(`${t.prefix}/shed/state`).length === 1);
    // A counter at 0 is left out (to Home Assistant it would be a reset), until it moves.
    expect(JSON.parse(rec.on(`${t.prefix}/shed/state`)[0]!.payload).values).to.deep.equal({ power: 42 });
    host.bus.publish({ meterId: 'shed', ts: Date.now() + 1, values: { power: 43, importEnergy: 7 } });
    await rec.waitFor('the shed\'s counter', () => rec.on(`${t.prefix}/shed/importEnergy`).map((m) => m.payload).join() === '7');
    expect([...retainedWithMosquittoSub(SHARED_PORT, t.root).keys()].filter((k) => k.includes('shed'))).to.include.members([...shedConfigs, `${t.prefix}/shed/availability`]);

    await host.meters!.remove('shed');
    await rec.waitFor('empty configs', () => shedConfigs.every((c) => rec.on(c).at(-1)!.payload === ''));
    await rec.waitFor('empty availability', () => rec.on(`${t.prefix}/shed/availability`).at(-1)!.payload === '');
    const left = [...retainedWithMosquittoSub(SHARED_PORT, t.root).keys()].filter((k) => k.includes('shed'));
    expect(left).to.deep.equal([]);
    // The other meter is untouched.
    expect(retainedWithMosquittoSub(SHARED_PORT, t.root).get(`${t.prefix}/house/availability`)).to.equal('online');
  });

  it('publishes offline for the host when it stops cleanly', async () => {
    await host.stop();
    await rec.waitFor('status offline', () => rec.on(`${t.prefix}/status`).at(-1)?.payload === 'offline');
    expect(retainedWithMosquittoSub(SHARED_PORT, t.root).get(`${t.prefix}/status`)).to.equal('offline');
  });
});
