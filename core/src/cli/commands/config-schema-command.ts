import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { hostFromCli, type GlobalOptions } from './run-host.js';

/** `meterhub config schema`: prints the composed JSON Schema so editors can autocomplete meterhub.json. */
export function registerConfigSchema(program: Command): void {
  const config = program.command('config').description('configuration tools');
  config
    .command('schema')
    .description('print the JSON Schema of the whole configuration (host, drivers, plugins)')
    .option('-o, --out <file>', 'write to a file instead of stdout')
    .action(async (opts: { out?: string }, cmd: Command) => {
      // The schema of a broken config is still useful: load packages without validating.
      const host = hostFromCli(cmd.optsWithGlobals<GlobalOptions>(), { schemasOnly: true }, true);
      await host.prepare().catch(() => undefined);
      const text = `${JSON.stringify(host.schema(), null, 2)}\n`;
      if (opts.out) await writeFile(opts.out, text);
      else process.stdout.write(text);
    });
}
