#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { exitCodeFor, formatError } from './report-error.js';

const program = new Command('meterhub')
  .description('Electricity monitoring for Eastron SDM230/SDM630 and any Modbus meter')
  .version('0.1.0')
  .option('-c, --config <file>', 'config file (default: $METERHUB_CONFIG or ./meterhub.json)')
  .exitOverride()
  .showHelpAfterError();

// Each command loads only its own module (the host, storage and plugins are
// heavy): `meterhub status` must answer in well under a second.
const COMMANDS: Record<string, () => Promise<(program: Command) => void>> = {
  start: async () => (await import('./commands/start-command.js')).registerStart,
  validate: async () => (await import('./commands/validate-command.js')).registerValidate,
  config: async () => (await import('./commands/config-schema-command.js')).registerConfigSchema,
  drivers: async () => (await import('./commands/drivers-command.js')).registerDrivers,
  'import-legacy': async () => (await import('./commands/import-legacy-command.js')).registerImportLegacy,
  simulate: async () => (await import('./commands/simulate-command.js')).registerSimulate,
  status: async () => (await import('./commands/status-command.js')).registerStatus,
  read: async () => (await import('./commands/read-command.js')).registerRead,
  scan: async () => (await import('./commands/scan-command.js')).registerScan,
  db: async () => (await import('./commands/db-command.js')).registerDb,
  user: async () => (await import('./commands/accounts-command.js')).registerAccounts,
  key: async () => (await import('./commands/accounts-command.js')).registerAccounts,
  export: async () => (await import('./commands/export-command.js')).registerExport,
  driver: async () => (await import('./commands/driver-command.js')).registerDriver,
  plugins: async () => (await import('./commands/plugins-command.js')).registerPlugins,
  import: async () => (await import('./commands/import-command.js')).registerImport,
};

/** The command word of argv (after global options), if any. */
function commandWord(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '-c' || arg === '--config') i++;
    else if (!arg.startsWith('-')) return arg;
  }
  return undefined;
}

const word = commandWord(process.argv.slice(2));
// Help, a typo (commander suggests the closest command) or no command: every command is registered.
const wanted = word && word !== 'help' && COMMANDS[word] ? [COMMANDS[word]] : [...new Set(Object.values(COMMANDS))];
const registered = new Set<(program: Command) => void>();
for (const load of wanted) {
  const register = await load();
  if (!registered.has(register)) register(program);
  registered.add(register);
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
  console.error(formatError(err));
  process.exit(exitCodeFor(err));
}
