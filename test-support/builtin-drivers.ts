import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { compileDriver, type CompiledDriver, type DriverDefinition } from '@meterhub/sdk';

const require = createRequire(import.meta.url);
const FILES: Record<string, string> = {
  sdm230: '@meterhub/driver-sdm230/sdm230.json',
  'sdm230-2t': '@meterhub/driver-sdm230/sdm230-2t.json',
  sdm630: '@meterhub/driver-sdm630/sdm630.json',
};

/** A built-in driver, compiled, read from its package as the host would. */
export function builtinDriver(id: keyof typeof FILES | string): CompiledDriver {
  const file = FILES[id];
  if (!file) throw new Error(`no built-in driver ${id}`);
  return compileDriver(JSON.parse(readFileSync(require.resolve(file), 'utf8')) as DriverDefinition);
}
