import { parseTimestamp } from '@meterhub/sdk';
import { badRequest } from './route-table.js';

/** ISO 8601 or epoch milliseconds → epoch ms; a 400 naming `path` otherwise. */
export function parseTime(value: unknown, path: string): number {
  const t = parseTimestamp(value);
  if (t === undefined) throw badRequest(path, 'must be an ISO 8601 time or epoch milliseconds');
  return t;
}

export const iso = (ms: number) => new Date(ms).toISOString();
