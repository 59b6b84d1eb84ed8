import type { Command } from 'commander';
import { MeterhubError } from '@meterhub/sdk';
import type { BusConfig } from '../../config/host-config.js';
import type { Host } from '../../host.js';
import { BusLink } from '../../acquisition/bus-link.js';
import { resolveTiming } from '../../acquisition/acquisition-service.js';
import type { CompiledDriver } from '@meterhub/sdk';
import { parseHostPort } from './simulate-command.js';

export interface ConnectionFlags {
  tcp?: string;
  rtuOverTcp?: string;
  serial?: string;
  baud: string;
  parity: string;
  dataBits: string;
  stopBits: string;
  timeout?: string;
  delay?: string;
}

/** Adds the flags that say how to reach a bus, shared by `read` and `scan`. */
export function addConnectionOptions(cmd: Command): Command {
  return cmd
    .option('--tcp <host:port>', 'Modbus TCP meter or gateway')
    .option('--rtu-over-tcp <host:port>', 'transparent RS485-to-Ethernet converter (raw RTU frames)')
    .option('--serial <path>', 'RS485 adapter, e.g. /dev/ttyUSB0')
    .option('--baud <n>', 'serial baud rate', '9600')
    .option('--parity <p>', 'none, even or odd', 'none')
    .option('--data-bits <n>', '7 or 8', '8')
    .option('--stop-bits <n>', '1 or 2', '1')
    .option('--timeout <ms>', 'response timeout (default: the driver\'s)')
    .option('--delay <ms>', 'pause between requests (default: the driver\'s)');
}

/** The bus these flags describe, as the config would declare it. */
export function busFromFlags(flags: ConnectionFlags): BusConfig {
  const chosen = [flags.tcp, flags.rtuOverTcp, flags.serial].filter(Boolean);
  if (chosen.length !== 1) throw new MeterhubError('METERHUB_ERR_CONFIG_INVALID', 'give exactly one of --tcp, --rtu-over-tcp, --serial');
  const parity = flags.parity as NonNullable<BusConfig['parity']>;
  if (!['none', 'even', 'odd'].includes(parity)) throw new MeterhubError('METERHUB_ERR_CONFIG_INVALID', '--parity is none, even or odd');
  const base = {
    id: 'cli', baud: Number(flags.baud), parity, dataBits: Number(flags.dataBits) as 7 | 8, stopBits: Number(flags.stopBits) as 1 | 2,
    afterConnectDelayMs: 0, retries: 1,
    ...(flags.timeout ? { responseTimeoutMs: Number(flags.timeout) } : {}),
    ...(flags.delay ? { interRequestDelayMs: Number(flags.delay) } : {}),
  };
  if (flags.serial) return { ...base, transport: 'rtu', path: flags.serial };
  const { host, port } = parseHostPort((flags.tcp ?? flags.rtuOverTcp)!);
  return { ...base, transport: flags.tcp ? 'modbus-tcp' : 'rtu-over-tcp', host, port };
}

/** Opens a bus link through the transport a loaded plugin offers (the host must have started its plugins). */
export function openLink(host: Host, bus: BusConfig, drivers: readonly CompiledDriver[]): BusLink {
  const factory = host.transports.get(bus.transport);
  if (!factory) throw new MeterhubError('METERHUB_ERR_PLUGIN_NOT_FOUND', `no transport "${bus.transport}" is loaded; available: ${host.transports.kinds().join(', ')}`);
  return new BusLink(factory(bus), resolveTiming(bus, drivers));
}
