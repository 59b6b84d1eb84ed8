import { definePlugin } from '@meterhub/sdk';
import type { BrokerLink } from './broker-link.js';
import { DiscoveryAnnouncer } from './discovery-announcer.js';
import { hostDeviceId } from './ha-discovery.js';
import { followHost, type Availability } from './host-feed.js';
import { configSchema, type MqttConfig } from './mqtt-config.js';
import { StaleConfigSweep } from './stale-config-sweep.js';
import { StatePublisher } from './state-publisher.js';
import { Topics } from './topics.js';

/**
 * Publishes every reading (polled, pushed or forwarded) and each meter's
 * availability to an MQTT broker, with Home Assistant discovery. Idle until
 * `url` (or MQTT_URL) is set.
 */
export default definePlugin<MqttConfig>((host) => ({
  name: 'MQTT and Home Assistant discovery',
  configSchema: configSchema as unknown as Record<string, unknown>,
  async start(config) {
    if (!config.url) {
      host.setStatusDetails({ enabled: false, hint: 'set plugins.mqtt.config.url (or MQTT_URL) to publish readings to an MQTT broker' });
      return;
    }
    // The MQTT client loads only when a broker is configured (off by default).
    const { BrokerLink } = await import('./broker-link.js');
    const settings = host.settings();
    const topics = new Topics(config.topicPrefix, config.homeAssistant.discoveryPrefix);
    const availability = new Map<string, Availability>();
    let lastError: string | undefined;
    const onError = (err: unknown) => {
      lastError = err instanceof Error ? err.message : String(err);
    };

    let link: BrokerLink;
    const send = (topic: string, payload: string, retain: boolean) => link.publish(topic, payload, retain);
    const connected = () => link.connected;
    const publisher = new StatePublisher({
      topics, mode: config.publish, retain: config.retain, send, connected, onError,
      minIntervalMs: (meterId) => (config.meterMinIntervalS[meterId] ?? config.minIntervalS) * 1000,
    });
    const ctx = { topics, stateSource: config.publish === 'values' ? 'values' as const : 'json' as const, qos: config.qos, hostName: settings.name, version: settings.version };
    const announcer = new DiscoveryAnnouncer({ ctx, discovery: config.homeAssistant.enabled, send, connected, onError });
    const sweep = new StaleConfigSweep({
      filter: `${topics.discoveryPrefix}/sensor/+/config`,
      subscribe: (f) => link.subscribe(f),
      unsubscribe: (f) => link.unsubscribe(f),
      hostDeviceId: hostDeviceId(ctx),
      current: () => announcer.announcedTopics(),
      clear: (topic) => void send(topic, '', true).catch(onError),
    });
    // Needs the broker and the registry's meter list, whichever comes last.
    const sweepWhenReady = () => {
      if (config.homeAssistant.enabled && link.connected && announcer.loaded) sweep.start();
    };
    const sendAvailability = (meterId: string, a: Availability) => {
      link.publish(topics.availability(meterId), a, true).catch(onError);
    };
    const announceEverything = () => {
      announcer.announceAll();
      for (const [meterId, a] of availability) sendAvailability(meterId, a);
    };

    link = new BrokerLink({
      url: config.url,
      ...(config.username !== undefined ? { username: config.username } : {}),
      ...(config.password !== undefined ? { password: config.password } : {}),
      ...(config.caFile ? { caFile: config.caFile } : {}),
      clientId: config.clientId ?? `meterhub-${settings.name}-${topics.namespace}`.slice(0, 128),
      qos: config.qos,
      statusTopic: topics.status,
      reconnect: config.reconnect,
      onUp() {
        host.setHealthy(`connected to ${link.origin}`);
        host.log.info({ broker: link.origin }, `publishing to MQTT broker ${link.origin}`);
        if (config.homeAssistant.enabled) link.subscribe(topics.haStatus);
        // Subscribed before announcing, the sweep sees the configs left from before, not the ones sent now.
        sweepWhenReady();
        announceEverything();
        publisher.resume();
      },
      onDown(reason) {
        host.setDegraded(`MQTT broker ${link.origin}: ${reason}; keeping the newest state of each meter`);
      },
      onMessage(topic, payload, retain) {
        if (sweep.offer(topic, payload, retain)) return;
        // Home Assistant (re)started: it forgets non-retained states, so send everything again.
        if (topic === topics.haStatus && payload.toString() === 'online') {
          announceEverything();
          publisher.republishAll();
        }
      },
    });
    host.onStop(() => link.stop());

    const stopFeed = followHost(host, {
      reading: (meterId, ts, values) => publisher.add(meterId, ts, values),
      availability(meterId, a) {
        availability.set(meterId, a);
        if (link.connected) sendAvailability(meterId, a);
      },
      meters(meters) {
        const { removed } = announcer.setMeters(meters);
        for (const id of removed) {
          availability.delete(id);
          publisher.remove(id);
        }
        sweepWhenReady();
      },
    });
    host.onStop(stopFeed);
    host.onStop(() => publisher.stop());
    host.onStop(() => sweep.stop());

    const report = () => host.setStatusDetails({
      enabled: true, broker: link.origin, connected: link.connected, published: publisher.published,
      queuedMeters: publisher.queued, droppedCounterValues: publisher.droppedCounterValues, staleConfigsRemoved: sweep.removed,
      ...(link.lastError ?? lastError ? { lastError: link.lastError ?? lastError } : {}),
    });
    const timer = setInterval(report, 1000).unref();
    host.onStop(() => clearInterval(timer));
    report();
  },
}));
