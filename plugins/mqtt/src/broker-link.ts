import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';

export interface BrokerLinkOptions {
  url: string;
  username?: string;
  password?: string;
  caFile?: string;
  clientId: string;
  qos: 0 | 1 | 2;
  /** Retained `online` on connect, retained `offline` as the last will and on a clean stop. */
  statusTopic: string;
  reconnect: { initialMs: number; maxMs: number };
  onUp(): void;
  onDown(reason: string): void;
  onMessage(topic: string, payload: Buffer, retain: boolean): void;
}

/** The broker URL without user info, for logs and status (credentials never leave the config). */
export function brokerOrigin(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return '(invalid url)';
  }
}

/**
 * The connection to the broker: last will on the host's status topic,
 * reconnection with a doubling back-off, and no queueing inside the client
 * (the state publisher keeps the newest state per meter instead, so an outage
 * costs one entry per meter, not every reading).
 */
export class BrokerLink {
  readonly client: MqttClient;
  readonly origin: string;
  #backoffMs: number;
  #everUp = false;
  lastError: string | undefined;

  constructor(private readonly options: BrokerLinkOptions) {
    this.origin = brokerOrigin(options.url);
    this.#backoffMs = options.reconnect.initialMs;
    const clientOptions: IClientOptions = {
      clientId: options.clientId,
      clean: true,
      reconnectPeriod: this.#backoffMs,
      connectTimeout: 10_000,
      queueQoSZero: false,
      will: { topic: options.statusTopic, payload: Buffer.from('offline'), qos: options.qos, retain: true },
      ...(options.username !== undefined ? { username: options.username } : {}),
      ...(options.password !== undefined ? { password: options.password } : {}),
      ...(options.caFile ? { ca: readFileSync(options.caFile) } : {}),
    };
    this.client = mqtt.connect(options.url, clientOptions);
    this.client.on('connect', () => {
      this.#everUp = true;
      this.lastError = undefined;
      this.#backoffMs = options.reconnect.initialMs;
      this.client.options.reconnectPeriod = this.#backoffMs;
      void this.publish(options.statusTopic, 'online', true).catch(() => undefined);
      options.onUp();
    });
    this.client.on('error', (err) => {
      // Credentials are in the options, never in these messages; the URL is logged as its origin only.
      this.lastError = err.message;
    });
    this.client.on('close', () => {
      const reason = this.lastError ?? (this.#everUp ? 'connection to the broker lost' : 'broker not reachable');
      // mqtt.js arms its timer (before this listener) with the period it reads then: doubling it here is the back-off.
      this.#backoffMs = Math.min(this.#backoffMs * 2, options.reconnect.maxMs);
      this.client.options.reconnectPeriod = this.#backoffMs;
      if (!this.client.disconnecting) options.onDown(reason);
    });
    this.client.on('message', (topic, payload, packet) => options.onMessage(topic, payload, packet.retain));
  }

  get connected(): boolean {
    return this.client.connected;
  }

  publish(topic: string, payload: string, retain: boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      this.client.publish(topic, payload, { qos: this.options.qos, retain }, (err) => (err ? reject(err) : resolve()));
    });
  }

  /** Subscriptions are renewed by the client after every reconnect. */
  subscribe(topic: string): void {
    this.client.subscribe(topic, { qos: this.options.qos });
  }

  unsubscribe(topic: string): void {
    this.client.unsubscribe(topic);
  }

  /** Marks the host offline (retained), then disconnects cleanly; gives up waiting after `timeoutMs`. */
  async stop(timeoutMs = 3000): Promise<void> {
    const timeout = new Promise<void>((r) => setTimeout(r, timeoutMs).unref());
    if (this.client.connected) await Promise.race([this.publish(this.options.statusTopic, 'offline', true).catch(() => undefined), timeout]);
    await Promise.race([this.client.endAsync(false), timeout]).catch(() => undefined);
    this.client.end(true);
  }
}
