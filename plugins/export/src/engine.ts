/**
 * The export engine without the HTTP endpoint, for `meterhub export`, which
 * writes the same files straight from the database.
 */
export { runExport, columnsFor, fileName, type ExportSources, type ExportOptions } from './export-engine.js';
export { parseExportRequest, type ExportRequest, type RangeLimits } from './export-request.js';
export { DEFAULT_RANGE_LIMITS } from './export-limits.js';
