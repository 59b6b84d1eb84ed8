import type { Command } from 'commander';
import { MeterhubError, type UnitScanHit } from '@meterhub/sdk';
import { scanUnits } from '../../acquisition/unit-scan.js';
import { addConnectionOptions, busFromFlags, openLink, type ConnectionFlags } from './connection-options.js';
import { parseUnitList } from './simulate-command.js';
import { hostFromCli, type GlobalOptions } from './run-host.js';

interface ScanFlags extends ConnectionFlags {
  units: string;
  json?: boolean;
}

/** What `meterhub scan --json` prints per unit that answered. */
export type ScanHit = UnitScanHit;

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
        // Scanning waits on every empty unit id: keep the timeout short unless told otherwise.
        const timeoutMs = flags.timeout ? Number(flags.timeout) : 300;
        hits.push(...await scanUnits(link, drivers, {
          units, timeoutMs, onProgress: (p) => progress(p.done, p.total, p.unitId, p.found),
        }));
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
