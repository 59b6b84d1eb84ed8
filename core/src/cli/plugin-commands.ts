import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join } from 'node:path';
import { locateConfig, readConfigFile, resolveDataDir } from '../config/config-file.js';
import { discoverPackages } from '../plugins/discovery.js';
import type { PackageJson } from '../plugins/manifest.js';
import { pluginIdFromName } from '../plugins/manifest.js';

/** A CLI command a plugin package declares in `meterhub.cli`. */
export interface PluginCommand {
  name: string;
  packageName: string;
  pluginId: string;
  /** Absolute path of the plugin's CLI module. */
  module: string;
}

const coreRequire = createRequire(import.meta.url);

/**
 * The commands the given packages declare, read from their package.json only
 * (no plugin code is loaded): `meterhub status` stays fast. A package that
 * cannot be read declares nothing here; discovery reports it when a host loads.
 */
export function pluginCommands(packages: readonly string[]): PluginCommand[] {
  const commands: PluginCommand[] = [];
  for (const spec of packages) {
    let pkg: PackageJson;
    let dir: string;
    try {
      dir = isAbsolute(spec) ? spec : dirname(coreRequire.resolve(`${spec}/package.json`));
      pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson;
    } catch {
      continue;
    }
    const cli = pkg.meterhub?.kind === 'plugin' ? pkg.meterhub.cli : undefined;
    if (!cli || typeof cli.module !== 'string' || !Array.isArray(cli.commands)) continue;
    for (const name of cli.commands) {
      if (typeof name !== 'string' || !/^[a-z][a-z0-9-]*$/.test(name)) continue;
      commands.push({ name, packageName: pkg.name, pluginId: pkg.meterhub?.id ?? pluginIdFromName(pkg.name), module: join(dir, cli.module) });
    }
  }
  return commands;
}

/**
 * The folders of the plugins the configuration brings besides the built-ins
 * (`pluginPackages`, `<dataDir>/node_modules`), found as a host finds them
 * but reading package.json files only. Asked only for a command word no
 * built-in knows, and for help, so the built-in commands stay fast. A config
 * that cannot be read brings none here: the command itself reports it.
 */
export async function configuredPluginDirs(configFlag: string | undefined, env: NodeJS.ProcessEnv, cwd: string): Promise<string[]> {
  try {
    const source = readConfigFile(locateConfig(configFlag, env, cwd), cwd);
    const raw = source.raw;
    const found = await discoverPackages({
      dataDir: resolveDataDir(raw, source.baseDir),
      baseDir: source.baseDir,
      named: Array.isArray(raw['pluginPackages']) ? (raw['pluginPackages'] as string[]) : [],
      ...(raw['discovery'] && typeof raw['discovery'] === 'object' ? (raw['discovery'] as { allow?: string[]; deny?: string[] }) : {}),
      builtins: [],
    });
    return found.packages.filter((p) => p.kind === 'plugin').map((p) => p.dir);
  } catch {
    return [];
  }
}
