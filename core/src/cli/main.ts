#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { registerAccounts } from './commands/accounts-command.js';
import { registerConfigSchema } from './commands/config-schema-command.js';
import { registerDb } from './commands/db-command.js';
import { registerDrivers } from './commands/drivers-command.js';
import { registerExport } from './commands/export-command.js';
import { registerDriver } from './commands/driver-command.js';
import { registerPlugins } from './commands/plugins-command.js';
import { registerImportLegacy } from './commands/import-legacy-command.js';
import { registerRead } from './commands/read-command.js';
import { registerScan } from './commands/scan-command.js';
import { registerSimulate } from './commands/simulate-command.js';
import { registerStart } from './commands/start-command.js';
import { registerStatus } from './commands/status-command.js';
import { registerValidate } from './commands/validate-command.js';
import { exitCodeFor, formatError } from './report-error.js';

const program = new Command('meterhub')
  .description('Electricity monitoring for Eastron SDM230/SDM630 and any Modbus meter')
  .version('0.1.0')
  .option('-c, --config <file>', 'config file (default: $METERHUB_CONFIG or ./meterhub.json)')
  .exitOverride()
  .showHelpAfterError();

registerStart(program);
registerValidate(program);
registerConfigSchema(program);
registerDrivers(program);
registerImportLegacy(program);
registerSimulate(program);
registerStatus(program);
registerRead(program);
registerScan(program);
registerDb(program);
registerAccounts(program);
registerExport(program);
registerDriver(program);
registerPlugins(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
  console.error(formatError(err));
  process.exit(exitCodeFor(err));
}
