import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Options, ValidateFunction } from 'ajv';
import { createAjv } from './ajv-factory.js';

// The generated code requires AJV's runtime helpers and ajv-formats' formats: resolved from here, where they are installed.
const sdkRequire = createRequire(import.meta.url);
const AJV_VERSION = (sdkRequire('ajv/package.json') as { version: string }).version;

/**
 * Folder of compiled validators: `METERHUB_CACHE_DIR` (empty turns the cache
 * off), else `$XDG_CACHE_HOME/meterhub/validators`, else `~/.cache/meterhub/validators`.
 */
export function validatorCacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const explicit = env['METERHUB_CACHE_DIR'];
  if (explicit !== undefined) return explicit ? join(explicit, 'validators') : undefined;
  const base = env['XDG_CACHE_HOME'] || (homedir() ? join(homedir(), '.cache') : '');
  return base ? join(base, 'meterhub', 'validators') : undefined;
}

/** Runs AJV standalone code (CommonJS) and returns its validate function. */
function loadStandalone(code: string): ValidateFunction {
  const module = { exports: {} as { default?: ValidateFunction } };
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- the same construction AJV uses for every validator it compiles
  new Function('module', 'exports', 'require', code)(module, module.exports, sdkRequire);
  const fn = module.exports.default;
  if (typeof fn !== 'function') throw new Error('not a validator module');
  return fn;
}

function store(dir: string, file: string, code: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // Written aside and renamed: a concurrent reader sees the whole file or none.
    const part = `${file}.${process.pid}.part`;
    writeFileSync(part, code, { mode: 0o600 });
    renameSync(part, file);
  } catch {
    // A read-only home or a full disk only costs the next run a compile.
  }
}

/**
 * Compiles a JSON Schema with an AJV made by `createAjv(options)`, and keeps
 * the generated code in the validator cache (see `validatorCacheDir`), keyed
 * by the AJV version, the options and the schema: the next process with the
 * same schema loads the code instead of compiling again (AJV's compile of a
 * driver or a whole config takes a few hundred ms on a small box; loading the
 * code a few ms). The validator behaves as AJV's own: same errors, same defaults.
 * The host calls it for driver definitions and the composed config schema.
 */
export function compileSchema(schema: Record<string, unknown>, options: Options = {}): ValidateFunction {
  const dir = validatorCacheDir();
  if (!dir) return createAjv(options).compile(schema);
  const key = createHash('sha256').update(JSON.stringify([AJV_VERSION, options, schema])).digest('hex').slice(0, 40);
  const file = join(dir, `${key}.cjs`);
  try {
    return loadStandalone(readFileSync(file, 'utf8'));
  } catch {
    // Not cached yet, or unreadable: compile, and cache for the next process.
  }
  const ajv = createAjv({ ...options, code: { ...options.code, source: true } });
  const validate = ajv.compile(schema);
  try {
    const standalone = (sdkRequire('ajv/dist/standalone') as { default: (a: typeof ajv, v: ValidateFunction) => string }).default;
    store(dir, file, standalone(ajv, validate));
  } catch {
    // A schema AJV cannot emit as standalone code (custom keywords) is only compiled.
  }
  return validate;
}
