import { join } from 'node:path';
import { definePlugin } from '@meterhub/sdk';
import { CentralClient } from './central-client.js';
import { Outbox } from './outbox.js';
import { TargetPool, type Strategy } from './target-pool.js';
import { UplinkSender } from './uplink-sender.js';

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
  configSchema: {
    type: 'object',
    additionalProperties: false,
    dependentRequired: { url: ['key'] },
    properties: {
      url: {
        // `pattern` checks a single URL, `items` each URL of a list: a bad entry is reported at its own path (/url/1).
        type: ['string', 'array'], pattern: '^https?://', minItems: 1, uniqueItems: true, items: { type: 'string', pattern: '^https?://' },
        description: 'Base URL of the central meterhub, e.g. https://energy.example.org; or a list of central hosts that share one database, used as `strategy` says.',
      },
      strategy: {
        enum: ['failover', 'round-robin'], default: 'failover',
        description: 'With several URLs: "failover" sends to the first one that is up and goes back to it once it answers again; "round-robin" spreads batches over all that are up.',
      },
      key: { type: 'string', minLength: 20, description: 'API key with the "ingest" scope, made on the central host (`meterhub key create`); the same key for every URL (they share one database). Secret: never logged.' },
      caFile: { type: 'string', description: 'PEM file of a private CA to trust besides the system CAs, for every URL.' },
      meterMap: {
        type: 'object', default: {},
        additionalProperties: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$' },
        description: 'Local meter id -> meter id on the central host, where they differ (two collectors with a meter "main" each).',
      },
      createMeters: {
        type: 'object', additionalProperties: false,
        description: 'Create meters the central host does not know (the key needs the "meters:write" scope), as pushed meters (no bus): `{}` turns it on.',
        properties: { bus: { type: 'string', description: 'Ignored (older versions created meters on this placeholder bus; the central host turns those into pushed meters).' } },
      },
      timeoutMs: { type: 'integer', minimum: 100, default: 10000 },
      batch: {
        type: 'object', additionalProperties: false, default: {},
        properties: {
          maxReadings: { type: 'integer', minimum: 1, maximum: 5000, default: 1000, description: 'Rows per request round.' },
          maxDelayMs: { type: 'integer', minimum: 10, default: 1000, description: 'Longest a reading waits for its batch to fill.' },
        },
      },
      outbox: {
        type: 'object', additionalProperties: false, default: {},
        properties: {
          maxReadings: { type: 'integer', minimum: 100, default: 2000000, description: 'Cap: beyond it the oldest instantaneous values are dropped; counters are kept.' },
          warnAtPercent: { type: 'integer', minimum: 1, maximum: 100, default: 80 },
        },
      },
      backoff: {
        type: 'object', additionalProperties: false, default: {},
        properties: { initialMs: { type: 'integer', minimum: 10, default: 1000 }, maxMs: { type: 'integer', minimum: 10, default: 60000 } },
      },
    },
  },
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
