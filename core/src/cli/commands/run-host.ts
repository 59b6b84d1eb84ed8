import { Host, type HostOptions } from '../../host.js';
import { createLogger } from '../../logging/logger.js';
import { locateConfig } from '../../config/config-file.js';

export interface GlobalOptions {
  config?: string;
}

/** Builds a host from the CLI's global options and the process environment. */
export function hostFromCli(global: GlobalOptions, extra: Partial<HostOptions> = {}, quiet = false): Host {
  const cwd = process.cwd();
  const configPath = locateConfig(global.config, process.env, cwd);
  const pretty = process.stdout.isTTY;
  const logger = createLogger({ level: quiet ? 'warn' : 'info', pretty });
  return new Host({ ...(configPath ? { configPath } : {}), cwd, logger, applyConfigLogLevel: !quiet, ...extra });
}
