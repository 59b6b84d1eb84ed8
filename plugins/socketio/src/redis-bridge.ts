import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import type { Namespace } from 'socket.io';
import { describeError, type HostApi, type MeterStateEvent, type Reading } from '@meterhub/sdk';
import type { LiveBridge, LiveHub } from './live-hub.js';

const READING = 'meterhub:reading';
const READINGS = 'meterhub:readings';
const STATE = 'meterhub:meter-state';

/** The Redis connections behind the official Socket.IO adapter. */
export class RedisConnections {
  readonly pub: Redis;
  readonly sub: Redis;
  #healthy = true;

  constructor(url: string, private readonly host: HostApi) {
    const options = { lazyConnect: false, maxRetriesPerRequest: null, enableOfflineQueue: true, connectionName: 'meterhub-live' };
    this.pub = new Redis(url, options);
    this.sub = this.pub.duplicate();
    for (const client of [this.pub, this.sub]) {
      // The URL may carry a password: errors are logged by message only.
      client.on('error', (err: unknown) => this.#down(describeError(err)));
      client.on('ready', () => this.#up());
    }
  }

  #down(message: string): void {
    if (this.#healthy) this.host.log.warn({ error: message }, 'Redis is unreachable: live updates reach only this instance\'s clients until it is back');
    this.#healthy = false;
    this.host.setDegraded(`Redis unreachable: ${message}`);
  }

  #up(): void {
    if (this.pub.status === 'ready' && this.sub.status === 'ready' && !this.#healthy) {
      this.#healthy = true;
      this.host.log.info('Redis reachable again');
      this.host.setHealthy();
    }
  }

  get healthy(): boolean {
    return this.#healthy && this.pub.status === 'ready';
  }

  /** Waits (bounded) for both connections, so the first readings are not lost to a cold start. */
  async ready(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && (this.pub.status !== 'ready' || this.sub.status !== 'ready')) {
      await new Promise((r) => setTimeout(r, 20));
    }
    if (this.pub.status !== 'ready' || this.sub.status !== 'ready') this.#down('not connected after start-up');
  }

  adapter(key: string) {
    return createAdapter(this.pub, this.sub, { key });
  }

  async close(): Promise<void> {
    // quit() waits for a reply, which never comes from a server that is down.
    await Promise.allSettled([this.pub, this.sub].map((c) => (c.status === 'ready' ? c.quit() : c.disconnect())));
    this.pub.disconnect();
    this.sub.disconnect();
  }
}

/**
 * Fans readings and meter states out to the other host instances through the
 * Socket.IO adapter's server-side events: every instance then delivers them to
 * its own clients with its own rooms and back-pressure, as if it had read the
 * meter itself. Readings go out in batches, one Redis message per turn of the
 * event loop: a bulk submission commits hundreds of readings at once, and a
 * message each cost the sending host more CPU than storing them (the scale
 * benchmark, docs/scaling.md). States flush the batch first, so a meter's
 * readings never arrive after a state sent later.
 */
export function bridgeThrough(nsp: Namespace, hub: LiveHub): LiveBridge {
  nsp.on(READINGS, (readings: Reading[]) => {
    for (const reading of readings) hub.onReading(reading, true);
  });
  // One reading a message: what hosts of earlier versions send during a rolling upgrade.
  nsp.on(READING, (reading: Reading) => hub.onReading(reading, true));
  nsp.on(STATE, (event: MeterStateEvent) => hub.onState(event, true));
  let batch: Reading[] = [];
  const flush = () => {
    if (!batch.length) return;
    nsp.serverSideEmit(READINGS, batch);
    batch = [];
  };
  return {
    forwardReading: (reading) => {
      if (batch.push(reading) === 1) setImmediate(flush);
    },
    forwardState: (event) => {
      flush();
      nsp.serverSideEmit(STATE, event);
    },
  };
}
