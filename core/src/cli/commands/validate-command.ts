import type { Command } from 'commander';
import { MeterhubError } from '@meterhub/sdk';
import { hostFromCli, type GlobalOptions } from './run-host.js';

/**
 * `meterhub validate`: loads drivers and plugins and checks the whole config,
 * plugin configs included. Prints every problem and exits 2 when there is one.
 */
export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('check the configuration against the composed schema and exit (status 2 when invalid)')
    .action(async (_opts: unknown, cmd: Command) => {
      const host = hostFromCli(cmd.optsWithGlobals<GlobalOptions>(), { schemasOnly: true }, true);
      await host.prepare();
      const details = [...host.pluginConfigProblems.values()].flat();
      if (details.length > 0) {
        throw new MeterhubError('METERHUB_ERR_CONFIG_INVALID', `The configuration has ${details.length} problem(s)`, { details });
      }
      const status = host.status();
      const broken = status.plugins.filter((p) => p.state === 'error');
      const where = host.source.path ?? '(defaults: no config file)';
      console.log(`${where}: valid (${status.drivers.length} drivers, ${status.plugins.length} plugins, ${host.config.meters.length} meters)`);
      for (const p of broken) console.log(`warning: plugin ${p.id} will not start: ${p.error?.message}`);
      for (const p of status.driverProblems) console.log(`warning: driver file ${p.file} not loaded: ${p.message}`);
    });
}
