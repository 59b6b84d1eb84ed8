import { expect } from 'chai';
import mqtt from 'mqtt';
import type { Host } from '../../../core/src/host.js';
import { tempDataDir } from '../../../core/test/helpers/temp-data-dir.js';
import { clearRetained, Recorder, retainedWithMosquittoSub, SHARED_PORT, startHost, testRoot } from './mqtt-rig.js';

/*
 * Expected payloads are written from Home Assistant's documentation of MQTT
 * discovery and the MQTT sensor (integrations/mqtt, integrations/sensor.mqtt)
 * and the sensor device classes (core sensor/const.py DEVICE_CLASS_UNITS,
 * DEVICE_CLASS_STATE_CLASSES), not from the plugin's code.
 */

/** Options the MQTT sensor documents (full names). */
const SENSOR_OPTIONS = new Set([
  'availability', 'availability_mode', 'availability_template', 'availability_topic', 'device', 'device_class', 'default_entity_id',
  'enabled_by_default', 'encoding', 'entity_category', 'entity_picture', 'expire_after', 'force_update', 'icon', 'json_attributes_template',
  'json_attributes_topic', 'last_reset_value_template', 'name', 'options', 'origin', 'payload_available', 'payload_not_available', 'platform',
  'qos', 'state_class', 'state_topic', 'suggested_display_precision', 'unique_id', 'unit_of_measurement', 'value_template',
]);
const DEVICE_OPTIONS = new Set(['configuration_url', 'connections', 'hw_version', 'identifiers', 'manufacturer', 'model', 'model_id', 'name', 'serial_number', 'suggested_area', 'sw_version', 'via_device']);
/** Device class → the units Home Assistant accepts for it (case-sensitive). */
const DEVICE_CLASS_UNITS: Record<string, readonly (string | undefined)[]> = {
  power: ['mW', 'W', 'kW', 'MW', 'GW', 'TW'],
  voltage: ['µV', 'mV', 'V', 'kV', 'MV'],
  current: ['mA', 'A'],
  frequency: ['Hz', 'kHz', 'MHz', 'GHz'],
  power_factor: [undefined, '%'],
  reactive_power: ['mvar', 'var', 'kvar'],
  apparent_power: ['mVA', 'VA', 'kVA'],
  energy: ['J', 'kJ', 'MJ', 'GJ', 'mWh', 'Wh', 'kWh', 'MWh', 'GWh', 'TWh', 'cal', 'kcal', 'Mcal', 'Gcal'],
  reactive_energy: ['varh', 'kvarh'],
};
const DEVICE_CLASS_STATE_CLASSES: Record<string, readonly string[]> = {
  energy: ['total', 'total_increasing'],
  reactive_energy: ['total', 'total_increasing'],
};

describe('mqtt plugin: Home Assistant discovery payloads', function () {
  this.timeout(60000);
  const t = testRoot();
  const ns = t.prefix.replace(/\//g, '_');
  const snakeNs = ns.replace(/[^a-zA-Z0-9]+/g, '_').toLowerCase();
  let dir: ReturnType<typeof tempDataDir>;
  let host: Host;
  let hostConfig: Record<string, unknown>;
  let rec: Recorder;
  const configs = () => new Map(rec.messages.filter((m) => m.topic.startsWith(`${t.discovery}/`) && m.topic.endsWith('/config') && m.payload).map((m) => [m.topic, JSON.parse(m.payload) as Record<string, unknown>]));

  before(async () => {
    dir = tempDataDir();
    rec = await Recorder.start(SHARED_PORT, `${t.root}/#`);
    hostConfig = {
      name: 'home', dataDir: dir.dataDir, http: { port: 0 },
      buses: [{ id: 'rs485', transport: 'modbus-tcp', host: '127.0.0.1', port: 1 }],
      meters: [
        // Not polled: discovery follows the registry, not readings.
        { id: 'house', name: 'House', driver: 'sdm230', bus: 'rs485', unitId: 1, enabled: false },
        { id: 'garage.ev', driver: 'sdm630', bus: 'rs485', unitId: 2, enabled: false, measurements: ['power', 'importEnergy', 'importReactiveEnergy', 'Phase 1 line to neutral volts'] },
      ],
      plugins: { mqtt: { required: true, config: { url: `mqtt://127.0.0.1:${SHARED_PORT}`, topicPrefix: t.prefix, homeAssistant: { discoveryPrefix: t.discovery } } } },
    };
    host = await startHost(hostConfig, dir.root);
    await rec.waitFor('discovery of both meters', () => configs().size >= 24 + 4 + 1);
  });

  after(async () => {
    await host?.stop();
    await rec?.close();
    await clearRetained(SHARED_PORT, t.root);
    dir?.cleanup();
  });

  const availability = (meterId: string) => [
    { topic: `${t.prefix}/status`, payload_available: 'online', payload_not_available: 'offline' },
    { topic: `${t.prefix}/${meterId}/availability`, payload_available: 'online', payload_not_available: 'offline' },
  ];
  const houseDevice = { identifiers: [`${ns}_house`], name: 'House', manufacturer: 'Eastron', model: 'SDM230-Modbus', via_device: ns };

  it('announces an import energy counter the Energy dashboard accepts', () => {
    const topic = `${t.discovery}/sensor/${ns}_house_importEnergy/config`;
    expect(configs().get(topic)).to.deep.equal({
      name: 'Import active energy',
      unique_id: `${ns}_house_importEnergy`,
      default_entity_id: `sensor.${snakeNs}_house_import_energy`,
      state_topic: `${t.prefix}/house/state`,
      // is_defined: a state without the value keeps the entity's value (core PR #65534) instead of a non-numeric "".
      value_template: "{{ value_json['values']['importEnergy'] | is_defined }}",
      device_class: 'energy',
      unit_of_measurement: 'kWh',
      state_class: 'total_increasing',
      availability: availability('house'),
      availability_mode: 'all',
      qos: 1,
      device: houseDevice,
      origin: { name: 'meterhub', sw_version: host.status().version },
    });
  });

  it('announces voltage, power factor and phase angle with the units Home Assistant expects', () => {
    const voltage = configs().get(`${t.discovery}/sensor/${ns}_house_voltageL1/config`)!;
    expect(voltage).to.include({ name: 'Voltage L1', device_class: 'voltage', unit_of_measurement: 'V', state_class: 'measurement' });
    expect(voltage).to.not.have.property('enabled_by_default');
    const pf = configs().get(`${t.discovery}/sensor/${ns}_house_powerFactor/config`)!;
    // The ratio -1..1: power_factor without a unit (a % unit would need the value ×100).
    expect(pf).to.include({ device_class: 'power_factor', state_class: 'measurement' }).and.not.have.property('unit_of_measurement');
    const angle = configs().get(`${t.discovery}/sensor/${ns}_house_phaseAngle/config`)!;
    expect(angle).to.include({ unit_of_measurement: '°', state_class: 'measurement', enabled_by_default: false }).and.not.have.property('device_class');
    const reactive = configs().get(`${t.discovery}/sensor/${ns}_house_reactivePower/config`)!;
    expect(reactive).to.include({ device_class: 'reactive_power', unit_of_measurement: 'var' });
  });

  it('announces the host as the device every meter is connected through', () => {
    expect(configs().get(`${t.discovery}/binary_sensor/${ns}_status/config`)).to.deep.include({
      unique_id: `${ns}_status`,
      state_topic: `${t.prefix}/status`,
      payload_on: 'online',
      payload_off: 'offline',
      device_class: 'connectivity',
      entity_category: 'diagnostic',
      device: { identifiers: [ns], name: 'home', manufacturer: 'meterhub', model: 'meterhub host', sw_version: host.status().version },
    });
  });

  it('announces only the selected measurements of a meter, under a topic Home Assistant accepts', () => {
    const ev = [...configs().entries()].filter(([topic]) => topic.includes('_garage_ev_'));
    expect(ev.map(([, p]) => p['name']).sort()).to.deep.equal(['Active power', 'Import active energy', 'Import reactive energy', 'Voltage L1']);
    const reactive = ev.find(([, p]) => p['name'] === 'Import reactive energy')![1];
    expect(reactive).to.include({ device_class: 'reactive_energy', unit_of_measurement: 'kvarh', state_class: 'total_increasing' });
    // No name given: the device is named after the meter id.
    expect(reactive['device']).to.deep.equal({ identifiers: [`${ns}_garage_ev`], name: 'garage.ev', manufacturer: 'Eastron', model: 'SDM630-Modbus V2', via_device: ns });
  });

  it('answers Home Assistant\'s birth message with the newest state again (states are not retained)', async () => {
    const ts = Date.now();
    host.bus.publish({ meterId: 'house', ts, values: { power: 640, importEnergy: 5 } });
    const stateOf = () => rec.on(`${t.prefix}/house/state`).filter((m) => (JSON.parse(m.payload) as { ts: number }).ts === ts);
    await rec.waitFor('the state', () => stateOf().length === 1);
    const ha = await mqtt.connectAsync(`mqtt://127.0.0.1:${SHARED_PORT}`, { clientId: `mhtest-ha-${t.root}` });
    await ha.publishAsync(`${t.discovery}/status`, 'offline', { qos: 1 });
    await ha.publishAsync(`${t.discovery}/status`, 'online', { qos: 1 });
    await ha.endAsync();
    await rec.waitFor('the same state again', () => stateOf().length === 2);
    expect(stateOf()[1]!.payload).to.equal(stateOf()[0]!.payload);
  });

  it('every sensor config follows the documented MQTT sensor schema', () => {
    const sensors = [...configs().entries()].filter(([topic]) => topic.includes('/sensor/'));
    expect(sensors).to.have.length(28);
    const uniqueIds = new Set<string>();
    for (const [topic, p] of sensors) {
      expect(topic).to.match(new RegExp(`^${t.discovery}/sensor/[a-zA-Z0-9_-]+/config$`));
      expect(topic.split('/').at(-2)).to.equal(p['unique_id']);
      for (const key of Object.keys(p)) expect(SENSOR_OPTIONS.has(key), `${topic}: ${key}`).to.equal(true);
      for (const key of Object.keys(p['device'] as object)) expect(DEVICE_OPTIONS.has(key), `${topic}: device.${key}`).to.equal(true);
      expect(p['state_topic'], topic).to.be.a('string');
      expect(p['default_entity_id'], topic).to.match(/^sensor\.[a-z0-9_]+$/);
      expect(['measurement', 'total', 'total_increasing']).to.include(p['state_class']);
      const cls = p['device_class'] as string | undefined;
      if (cls) {
        expect(DEVICE_CLASS_UNITS[cls], `${topic}: ${cls}`).to.not.equal(undefined);
        expect(DEVICE_CLASS_UNITS[cls], `${topic}: ${cls} in ${String(p['unit_of_measurement'])}`).to.include(p['unit_of_measurement']);
        expect(DEVICE_CLASS_STATE_CLASSES[cls] ?? ['measurement'], `${topic}: ${cls}`).to.include(p['state_class']);
      }
      // Since 2023.8 the entity name must not start with the device name.
      expect(String(p['name']).startsWith(String((p['device'] as { name: string }).name))).to.equal(false);
      expect(uniqueIds.has(p['unique_id'] as string), 'unique ids are unique').to.equal(false);
      uniqueIds.add(p['unique_id'] as string);
    }
  });

  it('removes at start the configs of meters that went away while it was stopped, and no one else\'s', async () => {
    await host.stop();
    const stale = `${t.discovery}/sensor/${ns}_gone_power/config`;
    const foreign = `${t.discovery}/sensor/elsewhere_gone_power/config`;
    const config = (via: string) => JSON.stringify({ name: 'Active power', unique_id: 'x', state_topic: 'x', device: { identifiers: ['x'], via_device: via } });
    const other = await mqtt.connectAsync(`mqtt://127.0.0.1:${SHARED_PORT}`, { clientId: `mhtest-other-${t.root}` });
    await other.publishAsync(stale, config(ns), { qos: 1, retain: true });
    await other.publishAsync(foreign, config('elsewhere'), { qos: 1, retain: true });
    await other.endAsync();
    const houseConfig = `${t.discovery}/sensor/${ns}_house_power/config`;
    const announced = rec.on(houseConfig).length;
    host = await startHost(hostConfig, dir.root);
    await rec.waitFor('the stale config emptied', () => rec.on(stale).at(-1)?.payload === '');
    await rec.waitFor('the meters announced again', () => rec.on(houseConfig).length > announced);
    const retained = retainedWithMosquittoSub(SHARED_PORT, t.root);
    expect(retained.has(stale)).to.equal(false);
    expect(retained.get(foreign)).to.equal(config('elsewhere'));
    expect(retained.has(houseConfig)).to.equal(true);
    expect(rec.on(foreign).map((m) => m.payload)).to.deep.equal([config('elsewhere')]);
  });
});
