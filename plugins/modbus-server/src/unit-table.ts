import type { CompiledDriver } from '@meterhub/sdk';
import type { SourceMeter } from './host-source.js';
import { ServedMeter } from './served-meter.js';

/** `units` in the config: meter id → unit id, or false to keep a meter off this server. */
export type UnitMap = Readonly<Record<string, number | false>>;

export interface UnitTableOptions {
  units: UnitMap;
  /** Serve only the meters named in `units`. */
  onlyListed: boolean;
}

/** A meter left off the server, and why. */
export interface Unserved {
  meter: string;
  reason: string;
}

/**
 * Which meter answers which unit id. Explicit entries win; every other meter
 * keeps the unit id it has on its own bus, unless another served meter has
 * it too: then none of those is served (a client must never read one meter
 * for another) until the config gives them distinct ids.
 */
export class UnitTable {
  readonly byUnit = new Map<number, ServedMeter>();
  readonly unserved: Unserved[] = [];
  /** Ids in `units` that name no meter (a typo, or a meter not created yet). */
  readonly unknownInMap: string[] = [];
  /** Every meter of the list this table was built from, served or not. */
  readonly meterIds: ReadonlySet<string>;

  constructor(meters: readonly SourceMeter[], driver: (id: string) => CompiledDriver | undefined, opts: UnitTableOptions, previous?: UnitTable) {
    const wanted = new Map<number, SourceMeter[]>();
    for (const m of meters) {
      const explicit = opts.units[m.id];
      if (explicit === false || (explicit === undefined && opts.onlyListed)) continue;
      const unit = explicit ?? m.unitId;
      if (unit === undefined) {
        this.unserved.push({ meter: m.id, reason: 'it has no unit id of its own; give it one in plugins.modbus-server.config.units' });
        continue;
      }
      const list = wanted.get(unit);
      if (list) list.push(m);
      else wanted.set(unit, [m]);
    }
    for (const [unit, list] of wanted) {
      // Explicit ids are unique (checked at start), so a clash involves a default.
      const winner = list.length === 1 ? list[0]! : list.find((m) => opts.units[m.id] === unit);
      for (const m of list) {
        if (m === winner) continue;
        const other = list.find((o) => o !== m)!;
        this.unserved.push({ meter: m.id, reason: `unit id ${unit} is also meter "${other.id}"'s; give it its own in plugins.modbus-server.config.units` });
      }
      if (!winner) continue;
      const compiled = driver(winner.driver);
      if (!compiled) {
        this.unserved.push({ meter: winner.id, reason: `driver "${winner.driver}" is not loaded` });
        continue;
      }
      const kept = previous?.byUnit.get(unit);
      this.byUnit.set(unit, kept && kept.meterId === winner.id && kept.driver === compiled ? kept : new ServedMeter(winner.id, unit, compiled));
    }
    this.meterIds = new Set(meters.map((m) => m.id));
    this.unknownInMap.push(...Object.keys(opts.units).filter((id) => !this.meterIds.has(id)));
  }

  /** For status: unit id → meter id, in unit order. */
  summary(): Array<{ unitId: number; meter: string; driver: string }> {
    return [...this.byUnit.values()].sort((a, b) => a.unitId - b.unitId).map((s) => ({ unitId: s.unitId, meter: s.meterId, driver: s.driver.id }));
  }
}
