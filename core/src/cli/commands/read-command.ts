import type { Command } from 'commander';
import { describeError, MeterhubError } from '@meterhub/sdk';
import { MeterRuntime } from '../../acquisition/meter-runtime.js';
import { addConnectionOptions, busFromFlags, openLink, type ConnectionFlags } from './connection-options.js';
import { hostFromCli, type GlobalOptions } from './run-host.js';

interface ReadFlags extends ConnectionFlags {
  driver: string;
  unit: string;
  json?: boolean;
}

const formatValue = (v: number) => (Math.abs(v) >= 1000 ? v.toFixed(1) : Math.abs(v) >= 1 ? v.toFixed(3) : v.toPrecision(4));

/**
 * `meterhub read`: reads every measurement of a driver once, through the same
 * transports, plan and decoding as the host, and prints a table with units.
 */
export function registerRead(program: Command): void {
  addConnectionOptions(program
    .command('read')
    .description('read every measurement of one meter once (first-time setup, troubleshooting)')
    .requiredOption('--driver <id>', 'driver of the meter, e.g. sdm630')
    .option('--unit <id>', 'Modbus unit id', '1')
    .option('--json', 'print JSON for scripts'))
    .action(async (flags: ReadFlags, cmd: Command) => {
      const bus = busFromFlags(flags);
      const host = hostFromCli({ ...cmd.optsWithGlobals<GlobalOptions>(), config: undefined }, { config: {} }, true);
      await host.startPluginsOnly('transports');
      try {
        const driver = host.drivers.get(flags.driver);
        if (!driver) throw new MeterhubError('METERHUB_ERR_DRIVER_UNKNOWN', `no driver "${flags.driver}"; loaded: ${host.drivers.list().map((d) => d.id).join(', ')}`);
        const unitId = Number(flags.unit);
        if (!Number.isInteger(unitId) || unitId < 1 || unitId > 247) throw new MeterhubError('METERHUB_ERR_CONFIG_INVALID', '--unit is a unit id from 1 to 247');
        const link = openLink(host, bus, [driver]);
        const meter = new MeterRuntime({
          id: 'cli', driver: driver.id, bus: bus.id, unitId, enabled: true, requestMode: 'coalesce', intervals: { instantMs: 1000, counterMs: 1000 },
        }, driver, Date.now());
        const t0 = performance.now();
        const result = await meter.poll(link, ['instant', 'counter']);
        const elapsed = performance.now() - t0;
        await link.close();
        if (!result.ok) throw result.error;
        const rows = driver.registers.filter((r) => r.measurement.id in result.values);
        if (flags.json) {
          console.log(JSON.stringify({ driver: driver.id, unitId, ts: new Date().toISOString(), requests: result.requests, values: result.values,
            units: Object.fromEntries(rows.map((r) => [r.measurement.id, r.measurement.unit])), invalid: meter.status.lastInvalid, unsupported: meter.status.unsupported }, null, 2));
          return;
        }
        const width = Math.max(...rows.map((r) => r.measurement.id.length));
        for (const r of rows) {
          const id = r.measurement.id;
          console.log(`${id.padEnd(width)}  ${formatValue(result.values[id]!).padStart(12)} ${(r.measurement.unit || '').padEnd(5)}  ${r.measurement.label}`);
        }
        console.log(`\n${rows.length} values from ${driver.definition.vendor} ${driver.definition.model} unit ${unitId} via ${link.description}: ${result.requests} request(s) in ${Math.round(elapsed)} ms`);
        if (meter.status.invalidValues > 0) console.log(`dropped ${meter.status.invalidValues} invalid value(s); last: ${meter.status.lastInvalid?.measurement}: ${meter.status.lastInvalid?.reason}`);
        if (meter.status.unsupported.length) console.log(`not served by this meter: ${meter.status.unsupported.join(', ')}`);
      } catch (err) {
        throw new MeterhubError(
          (err as { code?: string }).code?.startsWith('METERHUB_ERR_') ? (err as MeterhubError).code : 'METERHUB_ERR_MODBUS_CONNECTION',
          describeError(err).replace(/^METERHUB_ERR_[A-Z_]+: /, ''),
        );
      } finally {
        await host.stop();
      }
    });
}
