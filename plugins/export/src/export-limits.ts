import type { RangeLimits } from './export-request.js';

/**
 * The longest range per resolution, in days: a raw export of 93 days at one
 * reading per second is about 8 million rows per meter, a day's work for a
 * spreadsheet already. Documented in docs/export.md; set by `maxRangeDays`.
 */
export const DEFAULT_RANGE_LIMITS: RangeLimits = { raw: 93, '1m': 400, '1h': 3660, '1d': 36600 };
