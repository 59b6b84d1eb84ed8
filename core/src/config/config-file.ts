import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { MeterhubError } from '@meterhub/sdk';
import { isLegacySetting } from './legacy-setting.js';

export interface ConfigSource {
  /** Absolute path of the file read, or undefined when running on defaults. */
  path?: string;
  /** Folder that relative paths in the config are resolved against. */
  baseDir: string;
  raw: Record<string, unknown>;
  /** True when the file is the old logger's setting.json. */
  legacy: boolean;
}

/**
 * Picks the config file: the `--config` flag, then `METERHUB_CONFIG`, then
 * `./meterhub.json` when it exists. With none of them the host runs on
 * defaults (an empty object), which is what the quick start relies on.
 */
export function locateConfig(flag: string | undefined, env: NodeJS.ProcessEnv, cwd: string): string | undefined {
  const chosen = flag ?? env['METERHUB_CONFIG'];
  if (chosen) return isAbsolute(chosen) ? chosen : resolve(cwd, chosen);
  const fallback = resolve(cwd, 'meterhub.json');
  return existsSync(fallback) ? fallback : undefined;
}

/** Line and column of a JSON syntax error, from V8's "at position N" message. */
function syntaxLocation(text: string, message: string): string {
  const pos = /position (\d+)/.exec(message);
  if (!pos) return '';
  const before = text.slice(0, Number(pos[1]));
  const line = before.split('\n').length;
  const column = before.length - before.lastIndexOf('\n');
  return ` (line ${line}, column ${column})`;
}

/** Reads and parses the config file; a missing file or broken JSON is a coded error. */
export function readConfigFile(path: string | undefined, cwd: string): ConfigSource {
  if (!path) return { baseDir: cwd, raw: {}, legacy: false };
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new MeterhubError('METERHUB_ERR_CONFIG_READ', `Cannot read config file ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    const message = (err as Error).message;
    throw new MeterhubError('METERHUB_ERR_CONFIG_INVALID', `${path} is not valid JSON${syntaxLocation(text, message)}`, {
      details: [{ path: '/', message }],
      cause: err,
    });
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new MeterhubError('METERHUB_ERR_CONFIG_INVALID', `${path} must hold a JSON object`, { details: [{ path: '/', message: 'must be object' }] });
  }
  return { path, baseDir: dirname(path), raw: raw as Record<string, unknown>, legacy: isLegacySetting(raw) };
}

/** The data folder, resolved against the config file's folder. */
export function resolveDataDir(raw: Record<string, unknown>, baseDir: string): string {
  const dir = typeof raw['dataDir'] === 'string' ? raw['dataDir'] : './data';
  return resolve(baseDir, dir);
}
