import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { MeterhubError } from '@meterhub/sdk';
import { formatConformanceReport, runConformance } from '@meterhub/sdk/conformance';
import { driverScaffold } from '../../drivers/driver-scaffold.js';
import { importRegisterTable } from '../../drivers/register-table-import.js';

/** `meterhub driver test|new|import`: the kit for writing a driver package. */
export function registerDriver(program: Command): void {
  const driver = program.command('driver').description('write and check driver packages (see docs/driver-guide.md)');

  driver.command('test <path>')
    .description('conformance kit (the SDK\'s meterhub-driver-test): validate a definition file or driver package, then poll the simulator serving it; exit 1 on any problem')
    .option('--json', 'print the report as JSON')
    .action(async (path: string, opts: { json?: boolean }) => {
      const report = await runConformance(path);
      console.log(opts.json ? JSON.stringify(report, null, 2) : formatConformanceReport(report));
      if (!report.ok) process.exitCode = 1;
    });

  driver.command('new <name>')
    .description('scaffold a driver package: manifest, register map, README, npm test running the conformance kit')
    .option('--dir <folder>', 'where to create it (default: ./meterhub-driver-<name>)')
    .action((name: string, opts: { dir?: string }) => {
      if (!/^[a-z0-9][a-z0-9._-]{0,62}$/.test(name)) throw new MeterhubError('METERHUB_ERR_CONFIG_INVALID', 'the name is a driver id: lower-case letters, digits, ".", "_" or "-"');
      const dir = resolve(opts.dir ?? `meterhub-driver-${name.replace(/^meterhub-driver-/, '')}`);
      if (existsSync(dir)) throw new MeterhubError('METERHUB_ERR_CONFLICT', `${dir} exists; choose another --dir`);
      mkdirSync(dir, { recursive: true });
      for (const [file, text] of Object.entries(driverScaffold(name))) writeFileSync(join(dir, file), text);
      console.log(`created ${dir}\nnext: fill in ${name.replace(/^meterhub-driver-/, '')}.json from the datasheet, then \`npm install && npm test\` there`);
    });

  driver.command('import <csv>')
    .description('turn a register table (CSV: name, address, type, unit[, measurement, function, scale]) into a driver definition')
    .requiredOption('--id <id>', 'driver id, e.g. acme-em100')
    .requiredOption('--vendor <vendor>')
    .requiredOption('--model <model>')
    .requiredOption('--datasheet <url>', 'the document the table was transcribed from')
    .option('--out <file>', 'write the definition here (default: stdout)')
    .action((file: string, opts: { id: string; vendor: string; model: string; datasheet: string; out?: string }) => {
      const { definition, problems } = importRegisterTable(readFileSync(file, 'utf8'), opts);
      if (problems.length) {
        throw new MeterhubError('METERHUB_ERR_VALIDATION', `${file}: ${problems.length} problem(s) in the register table`, { details: problems });
      }
      const text = `${JSON.stringify(definition, null, 2)}\n`;
      if (opts.out) {
        writeFileSync(opts.out, text);
        console.error(`wrote ${definition.registers.length} register(s) to ${opts.out}; check it with \`meterhub driver test ${opts.out}\``);
      } else process.stdout.write(text);
    });
}
