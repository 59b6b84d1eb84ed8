import { createRequire } from 'node:module';
import { pino, type Logger, type LevelWithSilent } from 'pino';
import type pinoPretty from 'pino-pretty';

// Required only for a terminal: a service logging JSON never loads pino-pretty and its dependencies.
const requireCjs = createRequire(import.meta.url);

export type { Logger };

export interface LoggerOptions {
  level?: LevelWithSilent;
  /** Human-readable output; defaults to true when stdout is a terminal. */
  pretty?: boolean;
  /** File descriptor logs go to: 1 (stdout, default for the server) or 2 (stderr, for tools whose stdout is data). */
  fd?: 1 | 2;
}

/**
 * Paths that may carry secrets anywhere in a logged object: the config, a
 * plugin's own objects, request headers. pino replaces their values before
 * anything is written.
 */
export const REDACT_PATHS = [
  'secretKey', '*.secretKey', '*.*.secretKey',
  'password', '*.password', '*.*.password', '*.*.*.password',
  'apiKey', '*.apiKey', '*.*.apiKey', 'key', '*.key',
  'token', '*.token', 'authorization', '*.authorization', '*.headers.authorization',
  'storage.url', '*.storage.url', 'databaseUrl', '*.databaseUrl',
  'redis.url', '*.redis.url', 'redisUrl', '*.redisUrl',
];

/** The host's root logger; plugins get children of it bound to their id. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const usePretty = options.pretty ?? Boolean((options.fd === 2 ? process.stderr : process.stdout).isTTY);
  const base = { level: options.level ?? 'info', redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
  if (usePretty) {
    const pretty = requireCjs('pino-pretty') as typeof pinoPretty;
    return pino(base, pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', sync: true, destination: options.fd ?? 1 }));
  }
  return pino(base, pino.destination({ fd: options.fd ?? 1, sync: true }));
}
