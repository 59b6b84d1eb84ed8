import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
// The two functions only: all of semver is some 45 modules, loaded by every command.
import satisfies from 'semver/functions/satisfies.js';
import validRange from 'semver/ranges/valid.js';
import { HOST_API_VERSION, MeterhubError, type PackageManifest } from '@meterhub/sdk';

export const PLUGIN_KEYWORD = 'meterhub-plugin';
export const DRIVER_KEYWORD = 'meterhub-driver';

export interface PackageJson {
  name: string;
  version?: string;
  keywords?: string[];
  main?: string;
  exports?: unknown;
  meterhub?: PackageManifest;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

export type PackageOrigin = 'builtin' | 'npm' | 'path';

/** A package the host found, with its manifest checked. */
export interface PackageEntry {
  name: string;
  version: string;
  dir: string;
  origin: PackageOrigin;
  kind: 'plugin' | 'driver';
  /** Plugin id (plugins only). */
  id: string;
  manifest: PackageManifest;
  pkg: PackageJson;
  warnings: string[];
}

export async function readPackageJson(dir: string): Promise<PackageJson> {
  const text = await readFile(join(dir, 'package.json'), 'utf8');
  return JSON.parse(text) as PackageJson;
}

/** `@acme/plugin-rest` → `rest`, `meterhub-plugin-alerts` → `alerts`, otherwise the bare name. */
export function pluginIdFromName(name: string): string {
  const bare = name.replace(/^@[^/]+\//, '');
  return bare.replace(/^(meterhub-)?(plugin|driver)-/, '');
}

/**
 * Checks the `meterhub` section of a package.json and gates on the host API
 * range. A package outside the range is refused with a coded error rather than
 * loaded and left to fail in odd ways later.
 */
export function checkManifest(pkg: PackageJson, dir: string, origin: PackageOrigin): PackageEntry {
  const m = pkg.meterhub;
  const where = `${pkg.name ?? dir} (${dir})`;
  if (!m || typeof m !== 'object' || (m.kind !== 'plugin' && m.kind !== 'driver')) {
    throw new MeterhubError('METERHUB_ERR_PLUGIN_MANIFEST', `${where}: package.json needs a "meterhub" section with kind "plugin" or "driver"`);
  }
  if (typeof m.hostApi !== 'string' || !validRange(m.hostApi)) {
    throw new MeterhubError('METERHUB_ERR_PLUGIN_MANIFEST', `${where}: "meterhub.hostApi" must be a semver range such as "^1.0.0"`);
  }
  if (!satisfies(HOST_API_VERSION, m.hostApi)) {
    throw new MeterhubError('METERHUB_ERR_PLUGIN_API_RANGE',
      `${where} supports host API ${m.hostApi}, this host provides ${HOST_API_VERSION}; install a version of the package made for it`);
  }
  if (m.kind === 'driver' && (!Array.isArray(m.definitions) || m.definitions.length === 0)) {
    throw new MeterhubError('METERHUB_ERR_PLUGIN_MANIFEST', `${where}: a driver package lists its JSON files in "meterhub.definitions"`);
  }
  if (m.kind === 'plugin' && m.schema !== undefined && typeof m.schema !== 'string') {
    throw new MeterhubError('METERHUB_ERR_PLUGIN_MANIFEST', `${where}: "meterhub.schema" names a module file (relative to the package root)`);
  }
  const warnings: string[] = [];
  for (const core of ['@meterhub/core', '@meterhub/sdk']) {
    if (pkg.dependencies?.[core] && origin !== 'builtin') {
      warnings.push(`${pkg.name} lists ${core} in dependencies; it belongs in peerDependencies so the host's copy is used`);
    }
  }
  return {
    name: pkg.name,
    version: pkg.version ?? '0.0.0',
    dir,
    origin,
    kind: m.kind,
    id: m.id ?? pluginIdFromName(pkg.name),
    manifest: m,
    pkg,
    warnings,
  };
}

/** The file a plugin package's `import` resolves to: `exports["."]`, then `main`, then index.js. */
export function entryFile(pkg: PackageJson): string {
  const exp = pkg.exports;
  const dot = typeof exp === 'string' ? exp : exp && typeof exp === 'object' ? (exp as Record<string, unknown>)['.'] ?? exp : undefined;
  if (typeof dot === 'string') return dot;
  if (dot && typeof dot === 'object') {
    const conditions = dot as Record<string, unknown>;
    for (const key of ['import', 'node', 'default']) {
      const target = conditions[key];
      if (typeof target === 'string') return target;
      if (target && typeof target === 'object' && typeof (target as Record<string, unknown>)['default'] === 'string') {
        return (target as Record<string, string>)['default']!;
      }
    }
  }
  return pkg.main ?? 'index.js';
}
