import { createRequire } from 'node:module';
import { dirname } from 'node:path';

/**
 * The packages this distribution ships: ordinary driver and plugin packages
 * with the same manifest a third party writes. Being listed here only means
 * the host finds them without a config entry (each is a dependency of this
 * package). Core names none of them.
 */
export const BUILTIN_PACKAGES: readonly string[] = [
  '@meterhub/driver-sdm230',
  '@meterhub/driver-sdm630',
  '@meterhub/plugin-modbus-tcp',
  '@meterhub/plugin-modbus-rtu',
  '@meterhub/plugin-rest',
  '@meterhub/plugin-socketio',
  '@meterhub/plugin-export',
  '@meterhub/plugin-uplink',
  '@meterhub/plugin-modbus-server',
  '@meterhub/plugin-prometheus',
  '@meterhub/plugin-dashboard',
  '@meterhub/plugin-mqtt',
];

const require = createRequire(import.meta.url);

/**
 * The built-in packages' folders, resolved from this package (where npm put
 * its dependencies), as `Host`'s `builtins` option and core's `runCli` take them.
 */
export function builtinPackageDirs(): string[] {
  return BUILTIN_PACKAGES.map((name) => dirname(require.resolve(`${name}/package.json`)));
}
