import type { Command } from 'commander';
import { hostFromCli, type GlobalOptions } from './run-host.js';

/**
 * `meterhub start`: runs the host until SIGINT or SIGTERM, then stops plugins
 * in reverse order and exits 0. A second signal while stopping exits at once.
 */
export function registerStart(program: Command): void {
  program
    .command('start')
    .description('start the host (HTTP on port 8000 unless configured)')
    .option('--demo', 'serve a simulated SDM230 and SDM630 on loopback and poll them')
    .action(async (opts: { demo?: boolean }, cmd: Command) => {
      const host = hostFromCli(cmd.optsWithGlobals<GlobalOptions>(), opts.demo ? { demo: true } : {});
      await host.start();
      let signals = 0;
      const onSignal = (signal: NodeJS.Signals): void => {
        signals++;
        if (signals > 1) {
          host.log.warn({ signal }, 'second signal: exiting without finishing shutdown');
          process.exit(1);
        }
        host.log.info({ signal }, 'shutting down');
        host.stop().then(() => process.exit(0), (err: unknown) => {
          host.log.error({ err }, 'shutdown failed');
          process.exit(1);
        });
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
    });
}
