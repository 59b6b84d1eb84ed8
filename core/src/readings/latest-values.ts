import type { LatestValues, MeasurementFamily } from '@meterhub/sdk';

interface Entry {
  ts: number;
  values: Record<string, number>;
  /** The ids of `values` that belong to this family. */
  ids: readonly string[];
  /** Filtered, frozen view built on the first read after a change: reads far outnumber changes for a dashboard. */
  view?: LatestValues;
}

function pick(values: Record<string, number>, ids: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const id of ids) if (id in values) out[id] = values[id]!;
  return out;
}

/**
 * The host's one store of every meter's newest values, per family. The
 * reading pipeline writes it; REST `latest`, live snapshots, status and
 * plugins (`host.storage.latest`) read it. It never moves back: an older
 * reading leaves it as it is.
 */
export class LatestValuesStore {
  readonly #meters = new Map<string, Partial<Record<MeasurementFamily, Entry>>>();

  /**
   * Folds in a reading whose values split into `families` (ids per family).
   * Returns false when every family it carries already holds newer values: the
   * reading is a replay.
   */
  update(meterId: string, ts: number, values: Record<string, number>, families: Readonly<Record<MeasurementFamily, readonly string[]>>): boolean {
    let entry = this.#meters.get(meterId);
    if (!entry) this.#meters.set(meterId, (entry = {}));
    let moved = false;
    for (const family of ['power', 'energy'] as const) {
      const ids = families[family];
      if (ids.length === 0) continue;
      const prev = entry[family];
      if (!prev) {
        entry[family] = { ts, values, ids };
        moved = true;
      } else if (ts > prev.ts) {
        // Updated in place: this runs for every reading.
        prev.ts = ts;
        prev.values = values;
        prev.ids = ids;
        prev.view = undefined;
        moved = true;
      } else if (ts === prev.ts) {
        const merged = { ...pick(prev.values, prev.ids), ...pick(values, ids) };
        entry[family] = { ts, values: merged, ids: Object.keys(merged) };
        moved = true;
      }
    }
    return moved;
  }

  latest(meterId: string, family: MeasurementFamily): LatestValues | undefined {
    const entry = this.#meters.get(meterId)?.[family];
    if (!entry) return undefined;
    entry.view ??= Object.freeze({ ts: entry.ts, values: Object.freeze(pick(entry.values, entry.ids)) });
    return entry.view;
  }

  /** Epoch ms of the meter's newest reading of any family. */
  newestTs(meterId: string): number | undefined {
    const entry = this.#meters.get(meterId);
    if (!entry) return undefined;
    const ts = Math.max(entry.power?.ts ?? -Infinity, entry.energy?.ts ?? -Infinity);
    return Number.isFinite(ts) ? ts : undefined;
  }

  /** Both families merged (the live stream's snapshot): the newest value of every measurement. */
  merged(meterId: string): LatestValues | undefined {
    const power = this.latest(meterId, 'power');
    const energy = this.latest(meterId, 'energy');
    if (!power && !energy) return undefined;
    return { ts: Math.max(power?.ts ?? -Infinity, energy?.ts ?? -Infinity), values: { ...power?.values, ...energy?.values } };
  }

  delete(meterId: string): void {
    this.#meters.delete(meterId);
  }

  meters(): IterableIterator<string> {
    return this.#meters.keys();
  }
}
