import type { Command } from 'commander';
import { MeterhubError, ModbusExceptionError, type CompiledDriver } from '@meterhub/sdk';
import type { BusLink } from '../../acquisition/bus-link.js';
import { decodeBlock, planReads, type ReadBlock } from '../../acquisition/request-planner.js';
import { addConnectionOptions, busFromFlags, openLink, type ConnectionFlags } from './connection-options.js';
import { parseUnitList } from './simulate-command.js';
import { hostFromCli, type GlobalOptions } from './run-host.js';

interface ScanFlags extends ConnectionFlags {
  units: string;
  json?: boolean;
}

export interface ScanHit {
  unitId: number;
  driver: string | null;
  model: string | null;
  probes: Record<string, number>;
  /**
   * True when the answer does not settle the model: other drivers' probes hold
   * just as well (`alternatives`), or the driver names models that answer the
   * same way (`lookalikes`).
   */
  ambiguous: boolean;
  alternatives: Array<{ driver: string; model: string }>;
  lookalikes: Array<{ model: string; note?: string }>;
}

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

let lastLine = 0;

/** A bar on a terminal; elsewhere (logs, CI, a pipe) a plain line every 5 s and at the end. */
function progress(done: number, total: number, unit: number, found: number): void {
  if (!process.stderr.isTTY) {
    if (done === total || Date.now() - lastLine >= 5000) {
      lastLine = Date.now();
      process.stderr.write(`scan: ${done}/${total} unit id(s) tried, ${found} found${done < total ? `, now unit ${unit}` : ''}\n`);
    }
    return;
  }
  const width = 30;
  const filled = Math.round((done / total) * width);
  process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} unit ${unit}, found ${found} `);
}

/** `meterhub scan`: finds responding unit ids on a bus and identifies each meter through the drivers' probe registers. */
export function registerScan(program: Command): void {
  addConnectionOptions(program
    .command('scan')
    .description('find responding unit ids and identify their meter model')
    .option('--units <list>', 'unit ids to try, e.g. 1-10,20', '1-247')
    .option('--json', 'print JSON for scripts'))
    .action(async (flags: ScanFlags, cmd: Command) => {
      const bus = busFromFlags(flags);
      const units = parseUnitList(flags.units);
      const host = hostFromCli({ ...cmd.optsWithGlobals<GlobalOptions>(), config: undefined }, { config: {} }, true);
      await host.startPluginsOnly('transports');
      const hits: ScanHit[] = [];
      try {
        const drivers = host.drivers.list();
        if (drivers.length === 0) throw new MeterhubError('METERHUB_ERR_DRIVER_UNKNOWN', 'no drivers loaded');
        const link = openLink(host, bus, drivers);
        // Each driver's probe reads, planned once for the whole range.
        const plans = new Map(drivers.map((d) => [d.id, planReads(d, d.definition.probe.map((p) => d.byMeasurement.get(p.measurement)!), { gaps: 'exception' })]));
        // Scanning waits on every empty unit id: keep the timeout short unless told otherwise.
        const timeoutMs = flags.timeout ? Number(flags.timeout) : 300;
        let done = 0;
        for (const unitId of units) {
          progress(done, units.length, unitId, hits.length);
          const readings = new Map<string, Record<string, number>>();
          for (const d of drivers) {
            const values = await probe(link, unitId, plans.get(d.id)!, timeoutMs);
            if (values === undefined) break; // silent unit: do not spend a timeout per driver
            readings.set(d.id, values);
          }
          if (readings.size > 0) {
            const { driver: d, ties } = identify(drivers, readings);
            const lookalikes = (d?.definition.probeLookalikes ?? []).map((l) => ({ model: `${l.vendor} ${l.model}`, ...(l.note ? { note: l.note } : {}) }));
            hits.push({
              unitId, driver: d?.id ?? null, model: d ? modelOf(d) : null, probes: d ? readings.get(d.id)! : {},
              ambiguous: ties.length > 0 || lookalikes.length > 0,
              alternatives: ties.map((t) => ({ driver: t.id, model: modelOf(t) })),
              lookalikes,
            });
          }
          progress(++done, units.length, unitId, hits.length);
        }
        if (process.stderr.isTTY) process.stderr.write('\n');
        await link.close();
      } finally {
        await host.stop();
      }
      if (flags.json) {
        console.log(JSON.stringify(hits, null, 2));
        return;
      }
      for (const h of hits) {
        const probes = Object.entries(h.probes).map(([k, v]) => `${k}=${v.toFixed(2)}`).join(' ');
        console.log(`unit ${String(h.unitId).padStart(3)}: ${h.model ? `${h.model} (driver ${h.driver})` : 'answers, but no driver recognises it'}  ${probes}`);
        if (h.alternatives.length) {
          console.log(`          ambiguous: drivers ${h.alternatives.map((a) => `${a.driver} (${a.model})`).join(', ')} match just as well; check the meter's label and pick one`);
        }
        for (const l of h.lookalikes) console.log(`          could also be a ${l.model}, which answers the same probes${l.note ? ` (${l.note})` : ''}`);
      }
      console.log(`${hits.length} device(s) found on ${units.length} unit id(s)`);
    });
}
