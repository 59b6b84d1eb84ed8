import type { Command } from 'commander';
import { didYouMean, MEASUREMENTS, MeterhubError } from '@meterhub/sdk';
import { hostFromCli, type GlobalOptions } from './run-host.js';

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd()).join('\n');
}

/** `meterhub drivers`: lists loaded drivers, one driver's registers, or the measurement vocabulary. */
export function registerDrivers(program: Command): void {
  program
    .command('drivers')
    .description('list loaded drivers (and definition files that failed to load)')
    .option('--show <id>', 'print the registers of one driver')
    .option('--vocabulary', 'print the measurement vocabulary')
    .option('--json', 'machine-readable output')
    .action(async (opts: { show?: string; vocabulary?: boolean; json?: boolean }, cmd: Command) => {
      if (opts.vocabulary) {
        const list = [...MEASUREMENTS.values()];
        if (opts.json) console.log(JSON.stringify(list, null, 2));
        else console.log(table([['id', 'unit', 'kind', 'label'], ...list.map((m) => [m.id, m.unit || '-', m.kind, m.label])]));
        return;
      }
      // Plugins contribute only their schemas to the config check: none is loaded.
      const host = hostFromCli(cmd.optsWithGlobals<GlobalOptions>(), { schemasOnly: true }, true);
      await host.prepare();
      if (opts.show) {
        const driver = host.drivers.get(opts.show);
        if (!driver) {
          const ids = host.drivers.list().map((d) => d.id);
          throw new MeterhubError('METERHUB_ERR_DRIVER_UNKNOWN', [`no driver "${opts.show}"`, didYouMean(opts.show, ids), `loaded: ${ids.join(', ')}`].filter(Boolean).join('; '));
        }
        if (opts.json) {
          console.log(JSON.stringify(driver.definition, null, 2));
          return;
        }
        console.log(`${driver.definition.vendor} ${driver.definition.model} (${driver.id})\n`);
        // Legacy names are what the old logger's setting.json `paramlist` used; they are accepted as they are.
        console.log(table([['measurement', 'unit', 'fc', 'address', 'doc reg', 'type', 'legacy names'], ...driver.registers.map((r) => [
          r.measurement.id, r.measurement.unit || '-', r.function === 'input' ? '04' : '03', String(r.address),
          String(r.source.docRegister ?? ''), r.encoding.type, (r.source.legacyNames ?? []).join(', '),
        ])]));
        return;
      }
      const status = host.status();
      if (opts.json) {
        console.log(JSON.stringify({ drivers: status.drivers, problems: status.driverProblems }, null, 2));
        return;
      }
      console.log(table([['id', 'model', 'registers', 'package', 'origin'], ...host.drivers.entries().map((e) => [
        e.driver.id, `${e.driver.definition.vendor} ${e.driver.definition.model}`, String(e.driver.registers.length), e.packageName, e.origin,
      ])]));
      for (const p of status.driverProblems) {
        console.log(`\nnot loaded: ${p.file}\n  ${p.message}`);
        for (const d of p.details) console.log(`  ${d.path}  ${d.message}`);
      }
    });
}
