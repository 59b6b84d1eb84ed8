import { Command, CommanderError } from 'commander';
import { setDefaultBuiltins } from '../plugins/builtin-packages.js';
import { configuredPluginDirs, pluginCommands, type PluginCommand } from './plugin-commands.js';
import { exitCodeFor, formatError } from './report-error.js';

type Registrar = () => Promise<(program: Command) => void>;

// Each command loads only its own module (the host, storage and plugins are
// heavy): `meterhub status` must answer in well under a second.
const COMMANDS: Record<string, Registrar> = {
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
  driver: async () => (await import('./commands/driver-command.js')).registerDriver,
  plugins: async () => (await import('./commands/plugins-command.js')).registerPlugins,
  import: async () => (await import('./commands/import-command.js')).registerImport,
};

/** The value of the global `-c`/`--config` option in argv, if given. */
function configFlag(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '-c' || arg === '--config') return args[i + 1];
    if (arg.startsWith('--config=')) return arg.slice('--config='.length);
  }
  return undefined;
}

/** The command word of argv (after global options), if any. */
function commandWord(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '-c' || arg === '--config') i++;
    else if (!arg.startsWith('-')) return arg;
  }
  return undefined;
}

/**
 * The program as a plugin's CLI module sees it: the commands refused for it
 * (their names were taken) are made detached, so the module's other commands
 * still register.
 */
function withoutRefused(program: Command, refused: ReadonlySet<string>): Command {
  return new Proxy(program, {
    get(target, prop) {
      if (prop === 'command') {
        return (spec: string, ...rest: unknown[]) => {
          const name = spec.split(' ')[0]!;
          return refused.has(name) ? new Command(name) : (target.command as (...a: unknown[]) => Command)(spec, ...rest);
        };
      }
      if (prop === 'addCommand') return (cmd: Command, ...rest: unknown[]) => (refused.has(cmd.name()) ? target : (target.addCommand as (...a: unknown[]) => Command)(cmd, ...rest));
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** A plugin's commands, registered through its own CLI module, without those refused. */
function pluginRegistrar(command: PluginCommand, refused: ReadonlySet<string>): Registrar {
  return async () => {
    const { loadPluginCli } = await import('./plugin-cli-host.js');
    const register = await loadPluginCli(command);
    return (program: Command) => register(withoutRefused(program, refused));
  };
}

export interface RunCliOptions {
  /** process.argv-shaped: node, script, then the arguments. */
  argv: readonly string[];
  /**
   * The distribution's packages (absolute folders or names): discovered
   * without a config entry, and the plugins among them may add CLI commands.
   */
  builtins: readonly string[];
  version?: string;
}

/**
 * The `meterhub` command line. A distribution's bin calls it with its
 * built-in packages; it exits the process with the command's exit code on error.
 */
export async function runCli(options: RunCliOptions): Promise<void> {
  setDefaultBuiltins(options.builtins);
  const program = new Command('meterhub')
    .description('Electricity monitoring for Eastron SDM230/SDM630 and any Modbus meter')
    .version(options.version ?? '0.1.0')
    .option('-c, --config <file>', 'config file (default: $METERHUB_CONFIG or ./meterhub.json)')
    .exitOverride()
    .showHelpAfterError();

  const args = options.argv.slice(2);
  const word = commandWord(args);
  const versionOnly = !word && (args.includes('-V') || args.includes('--version'));
  const commands: Record<string, Registrar> = { ...COMMANDS };
  const problems: string[] = [];
  // Per CLI module: the names it declares that another command already has.
  const refused = new Map<string, Set<string>>();
  const registrars = new Map<string, Registrar>();
  const add = (list: readonly PluginCommand[]): void => {
    for (const command of list) {
      const taken = refused.get(command.module) ?? new Set<string>();
      refused.set(command.module, taken);
      if (commands[command.name]) {
        problems.push(`${command.packageName}: command "${command.name}" already exists; not added`);
        taken.add(command.name);
        continue;
      }
      // One registrar per module, so the module registers once however many of its commands are wanted.
      const registrar = registrars.get(command.module) ?? pluginRegistrar(command, taken);
      registrars.set(command.module, registrar);
      commands[command.name] = registrar;
    }
  };
  add(pluginCommands(options.builtins));
  // Plugins the configuration brings (pluginPackages, the data folder) are looked for only when no built-in has the word.
  if (!versionOnly && !(word && commands[word])) add(pluginCommands(await configuredPluginDirs(configFlag(args), process.env, process.cwd())));
  for (const p of problems) process.stderr.write(`warning: ${p}\n`);

  // Help, a typo (commander suggests the closest command) or no command: every command is registered; `--version` needs none.
  const wanted = versionOnly ? [] : word && word !== 'help' && commands[word] ? [commands[word]] : [...new Set(Object.values(commands))];
  const registered = new Set<(program: Command) => void>();
  try {
    for (const load of wanted) {
      const register = await load();
      if (!registered.has(register)) register(program);
      registered.add(register);
    }
    await program.parseAsync([...options.argv]);
  } catch (err) {
    if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
    console.error(formatError(err));
    process.exit(exitCodeFor(err));
  }
}
