const ISO = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * A time as clients send it (ISO 8601, or epoch milliseconds as a number or
 * digits) → epoch ms; undefined when it is neither. For query parameters and
 * bodies of the REST API, exports and plugins that take times.
 */
export function parseTimestamp(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string') return undefined;
  if (/^-?\d{1,15}$/.test(value)) return Number(value);
  if (!ISO.test(value)) return undefined;
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : t;
}
