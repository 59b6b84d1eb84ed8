import { join } from 'node:path';
import { definePlugin } from '@meterhub/sdk';
import { CentralClient } from './central-client.js';
import { Outbox } from './outbox.js';
import { TargetPool, type Strategy } from './target-pool.js';
import { UplinkSender } from './uplink-sender.js';
import { configSchema } from './config-schema.js';

interface UplinkConfig {
  url?: string | string[];
  strategy: Strategy;
  key?: string;
  caFile?: string;
  meterMap: Record<string, string>;
  createMeters?: { bus?: string };
  timeoutMs: number;
  batch: { maxReadings: number; maxDelayMs: number };
  outbox: { maxReadings: number; warnAtPercent: number };
  backoff: { initialMs: number; maxMs: number };
}

/**
 * Edge collector: forwards every reading of this host to a central meterhub's
 * ingest endpoints through a durable outbox; to one of several central hosts
 * sharing one database when `url` is a list. Idle until `url` and `key` are set.
 */
export default definePlugin<UplinkConfig>((host) => ({
  name: 'Uplink to a central meterhub',
  configSchema,
  async start(config) {
    if (!config.url || !config.key) {
      host.setStatusDetails({ enabled: false, hint: 'set plugins.uplink.config.url and key to forward readings to a central meterhub' });
      return;
    }
    const { key } = config;
    const outbox = new Outbox(join(await host.dataDir(), 'outbox.db'));
    host.onStop(() => outbox.close());
    const clients = (typeof config.url === 'string' ? [config.url] : config.url).map((url) => new CentralClient({
      url, key, timeoutMs: config.timeoutMs, ...(config.caFile ? { caFile: config.caFile } : {}),
    }));
    host.onStop(() => clients.forEach((c) => c.close()));
    const localIdOf = (remote: string) => Object.entries(config.meterMap).find(([, r]) => r === remote)?.[0] ?? remote;
    // On whichever central host answered 404: they share one database, so the meter is then known to all.
    const createMeter = async (remoteId: string, client: CentralClient): Promise<string | undefined> => {
      const local = await host.meters.get(localIdOf(remoteId));
      if (!local) return `no local meter "${localIdOf(remoteId)}"`;
      const res = await client.post('api/meters/', {
        id: remoteId, source: 'push', ...(local.name ? { name: local.name } : {}), ...(local.driver ? { driver: local.driver } : {}),
      });
      return res.status === 201 || res.status === 409 ? undefined : res.status ? `${res.status}: ${res.body.slice(0, 200)}` : String(res.error);
    };
    const pool: TargetPool = new TargetPool(clients, host, { strategy: config.strategy, backoff: config.backoff, onUp: () => sender.wake() });
    host.onStop(() => pool.close());
    const sender: UplinkSender = new UplinkSender(outbox, pool, host, {
      batchReadings: config.batch.maxReadings, batchDelayMs: config.batch.maxDelayMs,
      maxQueued: config.outbox.maxReadings, warnAt: config.outbox.warnAtPercent / 100, backoff: config.backoff,
      ...(config.createMeters ? { createMeter } : {}),
    });
    host.readings.subscribe((reading) => {
      const remote = config.meterMap[reading.meterId];
      outbox.add(remote ? { ...reading, meterId: remote } : reading);
      sender.queued();
    });
    const report = () => host.setStatusDetails({ enabled: true, strategy: config.strategy, ...pool.status(), ...sender.status() });
    const timer = setInterval(report, 1000).unref();
    host.onStop(() => clearInterval(timer));
    // Registered after the outbox's close, so it runs first: the sender finishes its round before the file closes.
    host.onStop(() => sender.stop());
    sender.start();
    report();
    const servers = clients.map((c) => c.origin).join(', ');
    host.log.info({ servers, strategy: config.strategy, queued: outbox.size }, `forwarding readings to ${servers}${clients.length > 1 ? ` (${config.strategy})` : ''}`);
  },
}));
