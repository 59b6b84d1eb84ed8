/** Topic names of one plugin instance; every topic the plugin uses is spelt here. */
export class Topics {
  /** Identifier namespace for unique ids and device identifiers: the topic prefix, which is unique per host on a broker. */
  readonly namespace: string;

  constructor(readonly prefix: string, readonly discoveryPrefix: string) {
    this.namespace = Topics.objectId(prefix);
  }

  /** Home Assistant allows only `[a-zA-Z0-9_-]` in a discovery topic's object id. */
  static objectId(s: string): string {
    return s.replace(/[^a-zA-Z0-9_-]/g, '_');
  }

  get status(): string {
    return `${this.prefix}/status`;
  }

  state(meterId: string): string {
    return `${this.prefix}/${meterId}/state`;
  }

  value(meterId: string, measurementId: string): string {
    return `${this.prefix}/${meterId}/${measurementId}`;
  }

  availability(meterId: string): string {
    return `${this.prefix}/${meterId}/availability`;
  }

  /** Home Assistant's birth and last-will topic. */
  get haStatus(): string {
    return `${this.discoveryPrefix}/status`;
  }

  /** `<discovery prefix>/<component>/<object id>/config`, the object id being the entity's unique id (no node id). */
  discoveryConfig(component: 'sensor' | 'binary_sensor', uniqueId: string): string {
    return `${this.discoveryPrefix}/${component}/${uniqueId}/config`;
  }
}
