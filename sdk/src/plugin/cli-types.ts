import type { CompiledDriver } from '../driver/compiled-driver.js';
import type { MeterRegistryApi } from './host-services.js';
import type { StorageReader } from './plugin-types.js';
import type { TariffsApi } from './tariff-types.js';

/**
 * A one-shot session a plugin's CLI command opens on the configured host: the
 * config is validated, drivers are loaded and storage is open, but no server
 * listens and no plugin is started. Close it when the command is done.
 */
export interface CliSession {
  /** The loaded drivers (built-in, installed and from `<dataDir>/drivers`). */
  readonly drivers: { get(id: string): CompiledDriver | undefined; list(): readonly CompiledDriver[] };
  /** Stored readings, read-only. */
  readonly storage: StorageReader;
  /** The meters of the config and of the database. */
  readonly meters: MeterRegistryApi;
  /**
   * The tariffs of the config file and of the database, read-only; `storage.consumption`
   * prices with them as the running host does. Since host API 1.4.
   */
  readonly tariffs: Pick<TariffsApi, 'list' | 'forMeter' | 'assignments'>;
  /** This plugin's `config` from the configuration file, validated against its schema, defaults applied. */
  readonly config: Readonly<Record<string, unknown>>;
  /** Closes storage. */
  close(): Promise<void>;
}

/** What the host hands a plugin's CLI module besides the program. */
export interface CliHost {
  /** The plugin's id. */
  readonly pluginId: string;
  /**
   * Opens a session on the host configured by the global `--config` option
   * (else `$METERHUB_CONFIG`, else `./meterhub.json`). Throws the host's coded
   * errors (an invalid config: METERHUB_ERR_CONFIG_INVALID, exit 2).
   */
  open(globalOptions: { config?: string }): Promise<CliSession>;
}

/**
 * The export of a plugin's CLI module (`registerCli`), named by
 * `meterhub.cli.module` in its package.json. The host imports the module only
 * when one of the commands listed in `meterhub.cli.commands` is run (or for
 * `meterhub --help`), and calls it once with the host's own program, a
 * commander 14 `Command` (`P`): the plugin adds its commands to it with
 * `program.command(name)` and never parses argv itself. Errors thrown by an
 * action are reported by the host like its own (coded message, exit code).
 */
export type RegisterCli<P = unknown> = (program: P, host: CliHost) => void;
