export interface SweepOptions {
  /** Topic filter of the configs to look at, e.g. `homeassistant/sensor/+/config`. */
  filter: string;
  subscribe(filter: string): void;
  unsubscribe(filter: string): void;
  /** The host's device identifier: configs whose device is connected via it are this host's. */
  hostDeviceId: string;
  /** The discovery topics the host announces now. */
  current(): ReadonlySet<string>;
  clear(topic: string): void;
}

const QUIET_MS = 500;

/**
 * Once per start, removes discovery configs this host left on the broker for
 * meters or measurements that are gone (a meter deleted from the config file
 * while the host was stopped). It reads the retained configs the broker
 * sends on subscription and empties those whose device is connected via this
 * host's device and that the host no longer announces; other publishers'
 * configs are never touched.
 */
export class StaleConfigSweep {
  readonly #found = new Map<string, string>();
  #state: 'idle' | 'collecting' | 'done' = 'idle';
  #last = 0;
  #timer: NodeJS.Timeout | undefined;
  removed = 0;

  constructor(private readonly options: SweepOptions) {}

  start(): void {
    if (this.#state !== 'idle') return;
    this.#state = 'collecting';
    this.#last = Date.now();
    this.options.subscribe(this.options.filter);
    this.#timer = setInterval(() => {
      if (Date.now() - this.#last >= QUIET_MS) this.#finish();
    }, 100);
    this.#timer.unref();
  }

  /** Takes a message while collecting; true when it was one of the configs looked at. */
  offer(topic: string, payload: Buffer, retain: boolean): boolean {
    if (this.#state !== 'collecting' || !this.#matches(topic)) return false;
    this.#last = Date.now();
    if (retain && payload.length) this.#found.set(topic, payload.toString());
    return true;
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  #matches(topic: string): boolean {
    const [head, tail] = this.options.filter.split('+');
    return topic.startsWith(head!) && topic.endsWith(tail!) && !topic.slice(head!.length, topic.length - tail!.length).includes('/');
  }

  #finish(): void {
    clearInterval(this.#timer);
    this.options.unsubscribe(this.options.filter);
    this.#state = 'done';
    const current = this.options.current();
    for (const [topic, payload] of this.#found) {
      if (current.has(topic)) continue;
      let viaDevice: unknown;
      try {
        viaDevice = (JSON.parse(payload) as { device?: { via_device?: unknown } }).device?.via_device;
      } catch {
        continue;
      }
      if (viaDevice !== this.options.hostDeviceId) continue;
      this.options.clear(topic);
      this.removed++;
    }
    this.#found.clear();
  }
}
