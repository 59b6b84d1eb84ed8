import { MeterhubError, type TransportFactory } from '@meterhub/sdk';

/** Transport kinds offered by plugins, e.g. `modbus-tcp` by the Modbus TCP plugin. */
export class TransportRegistry {
  readonly #factories = new Map<string, { factory: TransportFactory; owner: string }>();
  readonly #listeners = new Set<() => void>();

  register(kind: string, factory: TransportFactory, owner: string): () => void {
    const existing = this.#factories.get(kind);
    if (existing) throw new MeterhubError('METERHUB_ERR_PLUGIN_DUPLICATE', `transport "${kind}" is already provided by ${existing.owner}`);
    const entry = { factory, owner };
    this.#factories.set(kind, entry);
    this.#changed();
    return () => {
      if (this.#factories.get(kind) === entry) this.#factories.delete(kind);
      this.#changed();
    };
  }

  get(kind: string): TransportFactory | undefined {
    return this.#factories.get(kind)?.factory;
  }

  kinds(): string[] {
    return [...this.#factories.keys()];
  }

  /** Called whenever a transport appears or goes, so buses waiting for one can start. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #changed(): void {
    for (const l of this.#listeners) l();
  }
}
