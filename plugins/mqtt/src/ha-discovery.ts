import { haSensorClass } from './ha-sensor-classes.js';
import type { MeterInfo, MeterMeasurement } from './host-feed.js';
import { Topics } from './topics.js';

/** One retained discovery message. */
export interface DiscoveryMessage {
  topic: string;
  payload: Record<string, unknown>;
}

export interface DiscoveryContext {
  topics: Topics;
  /** JSON state (`value_json.values.<id>`) or one topic per measurement. */
  stateSource: 'json' | 'values';
  qos: 0 | 1 | 2;
  hostName: string;
  version: string;
}

// Entities enabled on a new device; the rest (THD, demand, phase angles, per-tariff counters) are there but off until the user enables them.
const ENABLED_QUANTITIES = new Set([
  'power', 'voltage', 'current', 'frequency', 'powerFactor', 'apparentPower', 'reactivePower',
  'importEnergy', 'exportEnergy', 'totalEnergy', 'importReactiveEnergy', 'exportReactiveEnergy',
]);

const snake = (s: string) => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/[^a-zA-Z0-9]+/g, '_').toLowerCase();

export function hostDeviceId(ctx: DiscoveryContext): string {
  return ctx.topics.namespace;
}

export function meterDeviceId(ctx: DiscoveryContext, meterId: string): string {
  return `${ctx.topics.namespace}_${Topics.objectId(meterId)}`;
}

const origin = (ctx: DiscoveryContext) => ({ name: 'meterhub', sw_version: ctx.version });

/** The host's own device, the `via_device` of every meter: one connectivity entity following `<prefix>/status`. */
export function hostDiscovery(ctx: DiscoveryContext): DiscoveryMessage {
  const uniqueId = `${ctx.topics.namespace}_status`;
  return {
    topic: ctx.topics.discoveryConfig('binary_sensor', uniqueId),
    payload: {
      name: 'Status',
      unique_id: uniqueId,
      default_entity_id: `binary_sensor.${snake(uniqueId)}`,
      state_topic: ctx.topics.status,
      payload_on: 'online',
      payload_off: 'offline',
      device_class: 'connectivity',
      entity_category: 'diagnostic',
      qos: ctx.qos,
      device: { identifiers: [hostDeviceId(ctx)], name: ctx.hostName, manufacturer: 'meterhub', model: 'meterhub host', sw_version: ctx.version },
      origin: origin(ctx),
    },
  };
}

function sensorDiscovery(ctx: DiscoveryContext, meter: MeterInfo, m: MeterMeasurement): DiscoveryMessage {
  const deviceId = meterDeviceId(ctx, meter.id);
  const uniqueId = `${deviceId}_${m.id}`;
  // `is_defined` makes a state without this measurement keep the entity's value instead of setting it to "".
  const source = ctx.stateSource === 'json'
    ? { state_topic: ctx.topics.state(meter.id), value_template: `{{ value_json['values']['${m.id}'] | is_defined }}` }
    : { state_topic: ctx.topics.value(meter.id, m.id) };
  return {
    topic: ctx.topics.discoveryConfig('sensor', uniqueId),
    payload: {
      // Since Home Assistant 2023.8 the entity name must not repeat the device name: HA puts them together.
      name: m.label,
      unique_id: uniqueId,
      default_entity_id: `sensor.${snake(deviceId)}_${snake(m.id)}`,
      ...source,
      ...haSensorClass(m),
      ...(ENABLED_QUANTITIES.has(m.quantity) && !m.tariff ? {} : { enabled_by_default: false }),
      availability: [
        { topic: ctx.topics.status, payload_available: 'online', payload_not_available: 'offline' },
        { topic: ctx.topics.availability(meter.id), payload_available: 'online', payload_not_available: 'offline' },
      ],
      availability_mode: 'all',
      qos: ctx.qos,
      device: { identifiers: [deviceId], name: meter.name, manufacturer: meter.vendor, model: meter.model, via_device: hostDeviceId(ctx) },
      origin: origin(ctx),
    },
  };
}

/** One sensor per selected measurement of a meter. */
export function meterDiscovery(ctx: DiscoveryContext, meter: MeterInfo): DiscoveryMessage[] {
  return meter.measurements.map((m) => sensorDiscovery(ctx, meter, m));
}
