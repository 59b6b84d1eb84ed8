import type { CompiledDriver, Disposer, HostApi } from '@meterhub/sdk';

/** The newest values of one family, as the host's latest-values store holds them (the same object until a newer reading). */
export interface LatestView {
  readonly ts: number;
  readonly values: Readonly<Record<string, number>>;
}

/** A meter as this server needs it. */
export interface SourceMeter {
  id: string;
  driver: string;
  /** Its unit id on its bus; a meter without a bus (values pushed to the host) may have none. */
  unitId?: number;
}

/**
 * Everything the server reads from the host, in one place: the meter
 * registry, drivers, the latest values held in memory and the meters' states.
 * Nothing here ever asks a bus: a request is answered from what the host
 * already has.
 */
export class HostSource {
  readonly #host: HostApi;
  readonly #states = new Map<string, string>();

  constructor(host: HostApi) {
    this.#host = host;
  }

  /** Starts tracking meter states; `onReading` hears the meter id of every reading (to spot meters not seen yet). */
  open(onReading: (meterId: string) => void): Disposer[] {
    for (const s of this.#host.meterStates.current()) this.#states.set(s.meterId, s.state);
    return [
      this.#host.meterStates.subscribe((s) => {
        this.#states.set(s.meterId, s.state);
      }),
      this.#host.readings.subscribe((r) => onReading(r.meterId)),
    ];
  }

  async meters(): Promise<SourceMeter[]> {
    // A meter without a driver (a pushed one) has no register map to serve.
    return (await this.#host.meters.list()).flatMap((m) => (m.driver === undefined ? [] : [{ id: m.id, driver: m.driver, ...(m.unitId !== undefined ? { unitId: m.unitId } : {}) }]));
  }

  driver(id: string): CompiledDriver | undefined {
    return this.#host.drivers.get(id);
  }

  /**
   * True while the acquisition reports the meter failing. Meters it does not
   * poll (values pushed over REST or an uplink) have no state and count as
   * reachable; their freshness is judged by age.
   */
  failed(meterId: string): boolean {
    const state = this.#states.get(meterId);
    return state !== undefined && state !== 'online' && state !== 'unknown';
  }

  power(meterId: string): LatestView | undefined {
    return this.#host.storage.latest(meterId, 'power');
  }

  energy(meterId: string): LatestView | undefined {
    return this.#host.storage.latest(meterId, 'energy');
  }
}
