export { Host, type HostOptions, type HostStatus } from './host.js';
export type { HostConfig, MeterConfig, BusConfig } from './config/host-config.js';
export { convertLegacySetting, isLegacySetting } from './config/legacy-setting.js';
export { ENV_VARIABLES } from './config/env-overrides.js';
export { createLogger } from './logging/logger.js';
