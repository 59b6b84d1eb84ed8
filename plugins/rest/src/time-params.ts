import { badRequest } from './route-table.js';

const ISO = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** ISO 8601 or epoch milliseconds → epoch ms; a 400 naming `path` otherwise. */
export function parseTime(value: unknown, path: string): number {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string') {
    if (/^-?\d{1,15}$/.test(value)) return Number(value);
    if (ISO.test(value)) {
      const t = Date.parse(value);
      if (!Number.isNaN(t)) return t;
    }
  }
  throw badRequest(path, 'must be an ISO 8601 time or epoch milliseconds');
}

export const iso = (ms: number) => new Date(ms).toISOString();
