import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { describeError, isMeterhubError, MeterhubError } from '@meterhub/sdk';
import {
  checkManifest, DRIVER_KEYWORD, PLUGIN_KEYWORD, readPackageJson,
  type PackageEntry, type PackageOrigin,
} from './manifest.js';

/** A package that was found but refused (bad manifest, API range, not found). */
export interface DiscoveryProblem {
  source: string;
  code: string;
  message: string;
}

export interface DiscoveryResult {
  packages: PackageEntry[];
  problems: DiscoveryProblem[];
}

export interface DiscoveryOptions {
  dataDir: string;
  /** Folder relative package paths are resolved against (the config file's). */
  baseDir: string;
  /** `pluginPackages` of the config: npm names or paths. */
  named: readonly string[];
  allow?: readonly string[];
  deny?: readonly string[];
  /**
   * Packages that ship with the distribution, found without a config entry:
   * absolute package folders, or names resolvable from core.
   */
  builtins?: readonly string[];
}

const hostRequire = createRequire(import.meta.url);

function resolvePackageDir(spec: string, opts: DiscoveryOptions): { dir: string; origin: PackageOrigin } {
  if (spec.startsWith('.') || isAbsolute(spec)) return { dir: resolve(opts.baseDir, spec), origin: 'path' };
  const inDataDir = join(opts.dataDir, 'node_modules', spec);
  if (existsSync(join(inDataDir, 'package.json'))) return { dir: inDataDir, origin: 'npm' };
  try {
    return { dir: dirname(createRequire(join(opts.baseDir, 'noop.js')).resolve(`${spec}/package.json`)), origin: 'npm' };
  } catch {
    throw new MeterhubError('METERHUB_ERR_PLUGIN_NOT_FOUND',
      `package "${spec}" is not installed in ${join(opts.dataDir, 'node_modules')} nor resolvable from ${opts.baseDir}; run \`meterhub plugins install ${spec}\``);
  }
}

/** Package folders in a node_modules folder, scoped ones included. */
async function listNodeModules(root: string): Promise<string[]> {
  if (!existsSync(root)) return [];
  const dirs: string[] = [];
  for (const entry of await readdir(root, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;
    const full = join(root, entry.name);
    if (entry.name.startsWith('@') && (entry.isDirectory() || entry.isSymbolicLink())) {
      for (const inner of await readdir(full, { withFileTypes: true })) dirs.push(join(full, inner.name));
    } else if (entry.isDirectory() || entry.isSymbolicLink()) {
      dirs.push(full);
    }
  }
  return dirs;
}

/**
 * Finds every driver and plugin package: the built-in ones, the ones named in
 * the config, and those in `<dataDir>/node_modules` whose keywords include
 * `meterhub-plugin` or `meterhub-driver`. A package that cannot be used is
 * reported as a problem; discovery itself never throws for one bad package.
 */
export async function discoverPackages(opts: DiscoveryOptions): Promise<DiscoveryResult> {
  const packages: PackageEntry[] = [];
  const problems: DiscoveryProblem[] = [];
  const seen = new Set<string>();
  const allowed = (name: string): boolean =>
    !(opts.deny ?? []).includes(name) && (!opts.allow || opts.allow.includes(name));

  const admit = async (dir: string, origin: PackageOrigin, source: string, requireKeyword: boolean): Promise<void> => {
    try {
      const pkg = await readPackageJson(dir);
      if (requireKeyword && !(pkg.keywords ?? []).some((k) => k === PLUGIN_KEYWORD || k === DRIVER_KEYWORD)) return;
      if (seen.has(pkg.name) || !allowed(pkg.name)) return;
      seen.add(pkg.name);
      packages.push(checkManifest(pkg, dir, origin));
    } catch (err) {
      problems.push({ source, code: isMeterhubError(err) ? err.code : 'METERHUB_ERR_PLUGIN_MANIFEST', message: describeError(err) });
    }
  };

  for (const name of opts.builtins ?? []) {
    if (!isAbsolute(name) && !allowed(name)) continue;
    try {
      await admit(isAbsolute(name) ? name : dirname(hostRequire.resolve(`${name}/package.json`)), 'builtin', name, false);
    } catch (err) {
      problems.push({ source: name, code: 'METERHUB_ERR_PLUGIN_NOT_FOUND', message: describeError(err) });
    }
  }
  for (const spec of opts.named) {
    try {
      const { dir, origin } = resolvePackageDir(spec, opts);
      await admit(dir, origin, spec, false);
    } catch (err) {
      problems.push({ source: spec, code: isMeterhubError(err) ? err.code : 'METERHUB_ERR_PLUGIN_NOT_FOUND', message: describeError(err) });
    }
  }
  for (const dir of await listNodeModules(join(opts.dataDir, 'node_modules'))) {
    await admit(dir, 'npm', dir, true);
  }
  return { packages, problems };
}
