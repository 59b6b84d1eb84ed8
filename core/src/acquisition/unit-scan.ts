import {
  decodeBlock, ModbusExceptionError, planReads,
  type CompiledDriver, type ReadBlock, type UnitScanHit, type UnitScanProgress,
} from '@meterhub/sdk';
import type { BusLink } from './bus-link.js';

/**
 * Reads a driver's probe registers from one unit; `undefined` when the unit did
 * not answer at all (nobody there), otherwise the values it gave (possibly none).
 */
async function probe(link: BusLink, unitId: number, plan: readonly ReadBlock[], timeoutMs: number): Promise<Record<string, number> | undefined> {
  const values: Record<string, number> = {};
  let answered = false;
  for (const block of plan) {
    try {
      decodeBlock(block, await link.read(unitId, block, { retries: 0, timeoutMs }), values);
      answered = true;
    } catch (err) {
      if (err instanceof ModbusExceptionError) {
        answered = true;
        continue;
      }
      if (!answered) return undefined;
    }
  }
  return values;
}

/**
 * The driver whose probes all hold, preferring the one with the most probes
 * (the most specific), and the drivers that match exactly as well: when there
 * are any, the probes cannot tell the models apart.
 */
export function identify(drivers: readonly CompiledDriver[], readings: Map<string, Record<string, number>>): { driver: CompiledDriver | undefined; ties: CompiledDriver[] } {
  const matches = drivers.filter((d) => {
    const v = readings.get(d.id);
    return v && d.definition.probe.every((p) => v[p.measurement] !== undefined && v[p.measurement]! >= p.min && v[p.measurement]! <= p.max);
  }).sort((a, b) => b.definition.probe.length - a.definition.probe.length);
  const best = matches[0];
  return { driver: best, ties: best ? matches.slice(1).filter((d) => d.definition.probe.length === best.definition.probe.length) : [] };
}

const modelOf = (d: CompiledDriver): string => `${d.definition.vendor} ${d.definition.model}`;

export interface UnitScanOptions {
  units: readonly number[];
  /** Timeout of each probe request: a silent unit id costs this much bus time. */
  timeoutMs: number;
  /** Called before each unit id and after the last. */
  onProgress?(progress: UnitScanProgress): void;
  /** Called for each unit that answered, as soon as it is identified. */
  onHit?(hit: UnitScanHit): void;
  /** Stops the scan before its next unit id. */
  signal?: AbortSignal;
  /** Runs one unit id's probes when the bus has a turn for it (a running bus's scheduler); directly when absent. */
  turn?<T>(probeUnit: () => Promise<T>): Promise<T>;
}

/**
 * Tries each unit id with every driver's probe registers and identifies what
 * answers. Every request goes through `link`, the bus's one request queue, so
 * the bus never has a second master; on a running bus `turn` puts each unit
 * id's probes between two poll cycles of the bus's scheduler. Shared by
 * `meterhub scan` and the host API's `buses.scan`.
 */
export async function scanUnits(link: BusLink, drivers: readonly CompiledDriver[], options: UnitScanOptions): Promise<UnitScanHit[]> {
  const { units, timeoutMs } = options;
  // Each driver's probe reads, planned once for the whole range.
  const plans = new Map(drivers.map((d) => [d.id, planReads(d, d.definition.probe.map((p) => d.byMeasurement.get(p.measurement)!), { gaps: 'exception' })]));
  const hits: UnitScanHit[] = [];
  let done = 0;
  for (const unitId of units) {
    if (options.signal?.aborted) break;
    options.onProgress?.({ done, total: units.length, unitId, found: hits.length });
    const readings = new Map<string, Record<string, number>>();
    const probeUnit = async () => {
      for (const d of drivers) {
        const values = await probe(link, unitId, plans.get(d.id)!, timeoutMs);
        if (values === undefined) break; // silent unit: do not spend a timeout per driver
        readings.set(d.id, values);
      }
    };
    await (options.turn ? options.turn(probeUnit) : probeUnit());
    if (readings.size > 0) {
      const { driver: d, ties } = identify(drivers, readings);
      const lookalikes = (d?.definition.probeLookalikes ?? []).map((l) => ({ model: `${l.vendor} ${l.model}`, ...(l.note ? { note: l.note } : {}) }));
      const hit: UnitScanHit = {
        unitId, driver: d?.id ?? null, model: d ? modelOf(d) : null, probes: d ? readings.get(d.id)! : {},
        ambiguous: ties.length > 0 || lookalikes.length > 0,
        alternatives: ties.map((t) => ({ driver: t.id, model: modelOf(t) })),
        lookalikes,
      };
      hits.push(hit);
      options.onHit?.(hit);
    }
    done++;
  }
  options.onProgress?.({ done, total: units.length, unitId: units[done - 1] ?? 0, found: hits.length });
  return hits;
}
