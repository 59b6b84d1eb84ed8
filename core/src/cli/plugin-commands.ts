import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join } from 'node:path';
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
