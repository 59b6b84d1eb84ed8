import { parseTimestamp } from '@meterhub/sdk';
import { badRequest } from './route-table.js';

/**
 * ISO 8601 or epoch milliseconds → epoch ms; a 400 naming `path` otherwise.
 * A date or a time without offset is a wall-clock time in `tz`.
 */
export function parseTime(value: unknown, path: string, tz = 'UTC'): number {
  const t = parseTimestamp(value, tz);
  if (t === undefined) throw badRequest(path, 'must be an ISO 8601 time or epoch milliseconds');
  return t;
}

export const iso = (ms: number) => new Date(ms).toISOString();
