/** The plugin's configuration, as the schema below fills it in. */
export interface MqttConfig {
  url?: string;
  username?: string;
  password?: string;
  caFile?: string;
  clientId?: string;
  topicPrefix: string;
  qos: 0 | 1 | 2;
  retain: boolean;
  publish: 'json' | 'values' | 'both';
  minIntervalS: number;
  meterMinIntervalS: Record<string, number>;
  homeAssistant: { enabled: boolean; discoveryPrefix: string };
  reconnect: { initialMs: number; maxMs: number };
}

// A topic level without wildcards; levels separated by single slashes.
const TOPIC_PATH = '^[^#+/\\s]+(/[^#+/\\s]+)*$';

/** JSON Schema of `plugins.mqtt.config`; its defaults are the plugin's defaults. */
export const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    url: {
      type: 'string', pattern: '^(mqtts?|wss?)://',
      description: 'Broker URL (MQTT_URL): mqtt://host:1883, mqtts://host:8883, ws://host:9001/mqtt. The plugin is idle while it is unset. Credentials in it are never logged.',
    },
    username: { type: 'string', description: 'Broker user name.' },
    password: { type: 'string', writeOnly: true, description: 'Broker password. Secret: never logged.' },
    caFile: { type: 'string', description: 'PEM file of a private CA to trust for mqtts:// and wss:// besides the system CAs.' },
    clientId: { type: 'string', minLength: 1, maxLength: 128, description: 'MQTT client id; defaults to "meterhub-" and the instance name.' },
    topicPrefix: { type: 'string', pattern: TOPIC_PATH, default: 'meterhub', description: 'First topic level(s): <prefix>/<meterId>/state, <prefix>/status.' },
    qos: { type: 'integer', enum: [0, 1, 2], default: 1, description: 'QoS of every message the plugin publishes.' },
    retain: { type: 'boolean', default: false, description: 'Retain state and value messages (availability, status and discovery are always retained).' },
    publish: {
      type: 'string', enum: ['json', 'values', 'both'], default: 'json',
      description: '"json": one JSON message per meter on <prefix>/<meterId>/state; "values": one plain number per measurement on <prefix>/<meterId>/<measurement>; "both".',
    },
    minIntervalS: {
      type: 'number', minimum: 0, maximum: 86400, default: 0,
      description: 'Publish each meter at most this often (seconds); readings in between are merged, newest values win. 0: every reading.',
    },
    meterMinIntervalS: {
      type: 'object', default: {}, additionalProperties: { type: 'number', minimum: 0, maximum: 86400 },
      description: 'Meter id -> its own minimum interval (seconds), where it differs from minIntervalS.',
    },
    homeAssistant: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        enabled: { type: 'boolean', default: true, description: 'Publish Home Assistant MQTT discovery: a device per meter, a sensor per measurement.' },
        discoveryPrefix: { type: 'string', pattern: TOPIC_PATH, default: 'homeassistant', description: 'Home Assistant\'s discovery prefix (its MQTT options); birth messages are read from <prefix>/status.' },
      },
    },
    reconnect: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        initialMs: { type: 'integer', minimum: 10, default: 1000, description: 'First wait before reconnecting; doubles on every failure.' },
        maxMs: { type: 'integer', minimum: 10, default: 60000, description: 'Longest wait between reconnection attempts.' },
      },
    },
  },
} as const;
