import { hostDiscovery, meterDiscovery, type DiscoveryContext, type DiscoveryMessage } from './ha-discovery.js';
import type { MeterInfo } from './host-feed.js';

export interface AnnouncerOptions {
  ctx: DiscoveryContext;
  /** Home Assistant discovery on; when off only the meters' own retained topics are managed. */
  discovery: boolean;
  send(topic: string, payload: string, retain: boolean): Promise<void>;
  connected(): boolean;
  onError(err: unknown): void;
}

/**
 * Keeps the broker's retained per-meter topics in step with the meter
 * registry: discovery configs for every meter (sent again whenever asked), and
 * empty retained payloads for what a deleted meter or a deselected measurement
 * leaves behind, which Home Assistant takes as "remove this entity".
 */
export class DiscoveryAnnouncer {
  /** Per meter: discovery topic → payload as last sent. */
  readonly #meters = new Map<string, { info: MeterInfo; configs: Map<string, string> }>();
  /** Retained topics to empty, kept until the broker has the deletion. */
  readonly #toClear = new Set<string>();

  constructor(private readonly options: AnnouncerOptions) {}

  /** True once the registry's meter list arrived: before, nothing is known to be stale. */
  loaded = false;

  /** Every discovery topic announced now. */
  announcedTopics(): Set<string> {
    const topics = new Set<string>();
    for (const { configs } of this.#meters.values()) for (const topic of configs.keys()) topics.add(topic);
    return topics;
  }

  /** Takes the registry's meter list: announces new or changed meters, removes deleted ones. */
  setMeters(meters: readonly MeterInfo[]): { removed: string[] } {
    this.loaded = true;
    const ids = new Set(meters.map((m) => m.id));
    const removed = [...this.#meters.keys()].filter((id) => !ids.has(id));
    for (const id of removed) {
      const { info, configs } = this.#meters.get(id)!;
      for (const topic of configs.keys()) this.#toClear.add(topic);
      this.#toClear.add(this.options.ctx.topics.availability(id));
      this.#toClear.add(this.options.ctx.topics.state(id));
      for (const m of info.measurements) this.#toClear.add(this.options.ctx.topics.value(id, m.id));
      this.#meters.delete(id);
    }
    const changed: DiscoveryMessage[] = [];
    for (const info of meters) {
      const messages = this.#messagesOf(info);
      const previous = this.#meters.get(info.id)?.configs ?? new Map<string, string>();
      const configs = new Map(messages.map((m) => [m.topic, JSON.stringify(m.payload)]));
      for (const topic of previous.keys()) if (!configs.has(topic)) this.#toClear.add(topic);
      for (const [topic, payload] of configs) {
        if (previous.get(topic) !== payload) changed.push({ topic, payload: JSON.parse(payload) as Record<string, unknown> });
        this.#toClear.delete(topic);
      }
      this.#meters.set(info.id, { info, configs });
    }
    if (this.options.connected()) {
      this.#clear();
      for (const m of changed) this.#send(m.topic, JSON.stringify(m.payload));
    }
    return { removed };
  }

  /** Sends every discovery config again (on connect and on Home Assistant's birth message) and pending deletions. */
  announceAll(): void {
    this.#clear();
    if (!this.options.discovery) return;
    const host = hostDiscovery(this.options.ctx);
    this.#send(host.topic, JSON.stringify(host.payload));
    for (const { configs } of this.#meters.values()) for (const [topic, payload] of configs) this.#send(topic, payload);
  }

  #messagesOf(info: MeterInfo): DiscoveryMessage[] {
    return this.options.discovery ? meterDiscovery(this.options.ctx, info) : [];
  }

  #clear(): void {
    for (const topic of this.#toClear) {
      this.options.send(topic, '', true).then(() => this.#toClear.delete(topic), this.options.onError);
    }
  }

  #send(topic: string, payload: string): void {
    this.options.send(topic, payload, true).catch(this.options.onError);
  }
}
