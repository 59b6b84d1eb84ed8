import type { MeasurementFamily } from '@meterhub/sdk';
import { getMeasurement } from '@meterhub/sdk';
import type { MeasurementCodes } from './measurement-codes.js';
import { entrySize, writeEntry } from './packed-values.js';

/**
 * How the values of one reading shape (a set of measurement ids) are stored:
 * which ids go to which family, in code order. A meter sends the same shape
 * every cycle, so this is worked out once per shape and cached: per reading,
 * packing is a loop over a prepared list.
 */
export interface ValueLayout {
  readonly ids: readonly string[];
  readonly families: Record<MeasurementFamily, { ids: string[]; codes: number[] }>;
  /** False until codes are assigned (they may need a database insert). */
  resolved: boolean;
}

export class LayoutCache {
  readonly #layouts = new Map<string, ValueLayout>();

  constructor(private readonly codes: MeasurementCodes) {}

  /**
   * The layout of a values object. `hint` is the layout this source used last
   * time: when the keys match it in order (the usual case) no string is built
   * and no map is consulted.
   */
  of(values: Record<string, number>, hint?: ValueLayout): ValueLayout {
    if (hint && sameKeys(values, hint.ids)) return hint;
    const ids = Object.keys(values);
    const key = ids.join(',');
    let layout = this.#layouts.get(key);
    if (!layout) {
      const families: ValueLayout['families'] = { power: { ids: [], codes: [] }, energy: { ids: [], codes: [] } };
      for (const id of ids) families[getMeasurement(id)?.family ?? 'power'].ids.push(id);
      layout = { ids, families, resolved: false };
      this.#resolveSync(layout);
      this.#layouts.set(key, layout);
    }
    return layout;
  }

  #resolveSync(layout: ValueLayout): void {
    if (layout.ids.some((id) => this.codes.code(id) === undefined)) return;
    for (const f of Object.values(layout.families)) {
      const pairs = f.ids.map((id) => [id, this.codes.code(id)!] as const).sort((a, b) => a[1] - b[1]);
      f.ids = pairs.map((p) => p[0]);
      f.codes = pairs.map((p) => p[1]);
    }
    layout.resolved = true;
  }

  /** Assigns codes the layout still lacks (a database insert, first time only). */
  async resolve(layout: ValueLayout): Promise<void> {
    if (layout.resolved) return;
    await this.codes.ensure(layout.ids);
    this.#resolveSync(layout);
  }
}

function sameKeys(values: Record<string, number>, ids: readonly string[]): boolean {
  let i = 0;
  for (const k in values) if (ids[i++] !== k) return false;
  return i === ids.length;
}

/** Packs one family of a reading with its layout (format: packed-values.ts). */
export function packWithLayout(values: Record<string, number>, ids: readonly string[], codes: readonly number[]): Buffer | undefined {
  if (ids.length === 0) return undefined;
  let size = 0;
  for (const id of ids) size += entrySize(values[id]!);
  const buf = Buffer.allocUnsafe(size);
  let o = 0;
  for (let i = 0; i < ids.length; i++) o = writeEntry(buf, o, codes[i]!, values[ids[i]!]!);
  return buf;
}
