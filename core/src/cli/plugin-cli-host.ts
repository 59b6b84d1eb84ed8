import { pathToFileURL } from 'node:url';
import type { Command } from 'commander';
import { MeterhubError, type CliHost, type CliSession, type RegisterCli } from '@meterhub/sdk';
import { createLogger } from '../logging/logger.js';
import { MeterRegistry } from '../meters/meter-registry.js';
import { StorageService, storageSettings } from '../storage/storage-service.js';
import { hostFromCli } from './commands/run-host.js';
import type { PluginCommand } from './plugin-commands.js';

/** What a plugin's CLI command gets: the configured host's drivers, storage (pricing with its tariffs), meters, tariffs and the plugin's config. */
function cliHost(pluginId: string): CliHost {
  return {
    pluginId,
    async open(globalOptions): Promise<CliSession> {
      const host = hostFromCli(globalOptions, {}, true);
      await host.prepare();
      const storage = await StorageService.open(storageSettings({ storage: host.config.storage, dataDir: host.dataDir }), createLogger({ level: 'warn', fd: 2 }));
      const tariffs = host.tariffs!;
      await tariffs.attach(storage);
      const meters = new MeterRegistry(storage, host.config.buses, host.drivers, async () => undefined, (id) => tariffs.meterRemoved(id), host.source.path);
      return {
        drivers: host.drivers,
        storage,
        meters,
        tariffs: { list: () => tariffs.list(), forMeter: (id) => tariffs.forMeter(id), assignments: () => tariffs.assignments() },
        config: Object.freeze({ ...(host.config.plugins[pluginId]?.config ?? {}) }),
        close: () => storage.close(),
      };
    },
  };
}

const loaded = new Map<string, (program: Command) => void>();

/** Imports a plugin's CLI module (once per module) and returns the function that adds its commands. */
export async function loadPluginCli(command: PluginCommand): Promise<(program: Command) => void> {
  const known = loaded.get(command.module);
  if (known) return known;
  const mod = (await import(pathToFileURL(command.module).href)) as { registerCli?: RegisterCli<Command> };
  const register = mod.registerCli;
  if (typeof register !== 'function') {
    throw new MeterhubError('METERHUB_ERR_PLUGIN_MANIFEST', `${command.packageName}: ${command.module} exports no registerCli function (meterhub.cli.module)`);
  }
  const bound = (program: Command): void => register(program, cliHost(command.pluginId));
  loaded.set(command.module, bound);
  return bound;
}
