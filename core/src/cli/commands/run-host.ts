import { Host, type HostOptions } from '../../host.js';
import { createLogger } from '../../logging/logger.js';
import { locateConfig } from '../../config/config-file.js';

export interface GlobalOptions {
  config?: string;
}

/**
 * Builds a host from the CLI's global options and the process environment.
 * `tool` hosts (validate, drivers, read …) log only warnings and open no servers.
 */
export function hostFromCli(global: GlobalOptions, extra: Partial<HostOptions> = {}, tool = false): Host {
  const cwd = process.cwd();
  const configPath = locateConfig(global.config, process.env, cwd);
  // Tools print results on stdout; their logs go to stderr so `--json` output stays clean.
  const logger = createLogger({ level: tool ? 'warn' : 'info', fd: tool ? 2 : 1 });
  return new Host({ ...(configPath ? { configPath } : {}), cwd, logger, applyConfigLogLevel: !tool, mode: tool ? 'check' : 'serve', ...extra });
}
