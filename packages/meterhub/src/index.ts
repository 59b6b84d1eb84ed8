/**
 * The meterhub distribution: core with its built-in drivers and plugins. An
 * embedder starts a host with them as `new Host({ builtins: builtinPackageDirs() })`.
 */
export { BUILTIN_PACKAGES, builtinPackageDirs } from './builtin-packages.js';
export { Host, type HostOptions, type HostStatus } from '@meterhub/core';
