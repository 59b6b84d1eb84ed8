import type { Command } from 'commander';
import {
  MeterhubError, MeterSimulator, SimulatorSerialEndpoint, SimulatorTcpEndpoint,
  type GapBehaviour, type WireEmulation,
} from '@meterhub/sdk';
import { hostFromCli, type GlobalOptions } from './run-host.js';

interface SimulateOptions {
  driver: string;
  unit: string;
  tcp?: string;
  rtuOverTcp?: string;
  serial?: string;
  baud: string;
  gaps?: GapBehaviour;
  baudEmulation?: string;
  turnaroundMs: string;
  minSilenceMs?: string;
}

/** Parses `1,2,5-7` into unit ids 1..247. */
export function parseUnitList(spec: string): number[] {
  const ids = new Set<number>();
  for (const part of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new MeterhubError('METERHUB_ERR_SIMULATOR', `"${part}" is not a unit id or range`);
    const from = Number(m[1]);
    const to = Number(m[2] ?? m[1]);
    if (from < 1 || to > 247 || from > to) throw new MeterhubError('METERHUB_ERR_SIMULATOR', `unit ids run from 1 to 247, not "${part}"`);
    for (let i = from; i <= to; i++) ids.add(i);
  }
  return [...ids];
}

/** Splits `host:port`; a bare port listens on loopback. */
export function parseHostPort(spec: string): { host: string; port: number } {
  const m = /^(?:(.+):)?(\d+)$/.exec(spec);
  const port = Number(m?.[2]);
  if (!m || port < 0 || port > 65535) throw new MeterhubError('METERHUB_ERR_SIMULATOR', `"${spec}" is not host:port`);
  return { host: m[1] ?? '127.0.0.1', port };
}

/** `meterhub simulate`: serves simulated meters of any loaded driver over TCP, RTU-over-TCP or serial RTU. */
export function registerSimulate(program: Command): void {
  program
    .command('simulate')
    .description('serve simulated meters of a driver for tests and demos (no hardware needed)')
    .requiredOption('--driver <id>', 'driver to simulate, e.g. sdm630')
    .option('--unit <ids>', 'unit ids, e.g. 1,2 or 1-4', '1')
    .option('--tcp <host:port>', 'serve Modbus TCP')
    .option('--rtu-over-tcp <host:port>', 'serve raw RTU frames over TCP (transparent gateway)')
    .option('--serial <path>', 'serve RTU on a serial device (e.g. a socat pty)')
    .option('--baud <n>', 'serial baud rate', '9600')
    .option('--gaps <mode>', 'undocumented addresses: zero-fill (as meters do) or exception (as the datasheet says)')
    .option('--baud-emulation <n>', 'delay replies by their wire time at this baud rate, one request at a time')
    .option('--turnaround-ms <n>', 'meter turnaround with --baud-emulation', '10')
    .option('--min-silence-ms <n>', 'ignore requests sent sooner than this after a reply (Eastron: 60)')
    .action(async (opts: SimulateOptions, cmd: Command) => {
      if (!opts.tcp && !opts.rtuOverTcp && !opts.serial) {
        throw new MeterhubError('METERHUB_ERR_SIMULATOR', 'give at least one of --tcp, --rtu-over-tcp, --serial');
      }
      if (opts.gaps && opts.gaps !== 'zero-fill' && opts.gaps !== 'exception') {
        throw new MeterhubError('METERHUB_ERR_SIMULATOR', '--gaps is zero-fill or exception');
      }
      const host = hostFromCli({ ...cmd.optsWithGlobals<GlobalOptions>() }, {}, true);
      await host.prepare();
      const driver = host.drivers.get(opts.driver);
      if (!driver) throw new MeterhubError('METERHUB_ERR_DRIVER_UNKNOWN', `no driver "${opts.driver}"; loaded: ${host.drivers.list().map((d) => d.id).join(', ')}`);
      const units = parseUnitList(opts.unit);
      const sim = new MeterSimulator();
      for (const u of units) sim.addUnit(u, driver, opts.gaps ? { gaps: opts.gaps } : {});
      const wire: WireEmulation | undefined = opts.baudEmulation
        ? { baud: Number(opts.baudEmulation), turnaroundMs: Number(opts.turnaroundMs), ...(opts.minSilenceMs ? { minSilenceMs: Number(opts.minSilenceMs) } : {}) }
        : undefined;
      const closers: Array<() => Promise<void>> = [];
      const lines: string[] = [];
      for (const [spec, framing, label] of [[opts.tcp, 'mbap', 'modbus-tcp'], [opts.rtuOverTcp, 'rtu', 'rtu-over-tcp']] as const) {
        if (!spec) continue;
        const ep = new SimulatorTcpEndpoint(sim, { ...parseHostPort(spec), framing, ...(wire ? { wire } : {}) });
        const port = await ep.listen();
        closers.push(() => ep.close());
        lines.push(`${label} ${parseHostPort(spec).host}:${port}`);
      }
      if (opts.serial) {
        const ep = new SimulatorSerialEndpoint(sim, { path: opts.serial, baud: Number(opts.baud), ...(wire ? { wire } : {}) });
        await ep.open();
        closers.push(() => ep.close());
        lines.push(`rtu ${opts.serial} @ ${opts.baud} baud`);
      }
      const gaps = opts.gaps ?? driver.definition.limits.gaps;
      console.log(`simulating ${driver.definition.vendor} ${driver.definition.model} (${driver.id}), unit(s) ${units.join(',')}, gaps ${gaps}` +
        `${wire ? `, wire emulation ${wire.baud} baud, turnaround ${wire.turnaroundMs} ms` : ''}`);
      for (const l of lines) console.log(`  serving ${l}`);
      console.log('Ctrl-C to stop');
      const stop = () => {
        void Promise.all(closers.map((c) => c())).then(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
