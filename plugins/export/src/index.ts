import { definePlugin } from '@meterhub/sdk';
import { exportHandler, type ExportCounters } from './export-endpoint.js';
import { exportPathItem } from './export-openapi.js';
import { DEFAULT_RANGE_LIMITS } from './export-limits.js';
import type { RangeLimits } from './export-request.js';
import { EXCEL_MAX_ROWS } from './xlsx-sink.js';

interface ExportConfig {
  maxRangeDays: RangeLimits;
  pageSize: number;
  maxRowsPerSheet: number;
}

const days = (d: number) => ({ type: 'integer', minimum: 1, maximum: 36600, default: d });

/**
 * `GET /api/export/`: history as CSV or Excel, streamed page by page. The same
 * engine writes files for `meterhub export` (`@meterhub/plugin-export/engine`).
 */
export default definePlugin<ExportConfig>((host) => ({
  name: 'CSV and Excel export',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      maxRangeDays: {
        type: 'object', additionalProperties: false, default: {},
        description: 'The longest range one export may span, per resolution.',
        properties: { raw: days(DEFAULT_RANGE_LIMITS.raw), '1m': days(DEFAULT_RANGE_LIMITS['1m']), '1h': days(DEFAULT_RANGE_LIMITS['1h']), '1d': days(DEFAULT_RANGE_LIMITS['1d']) },
      },
      pageSize: { type: 'integer', minimum: 100, maximum: 100000, default: 1000, description: 'Rows per database query; memory per export is about one page. Larger pages keep more rows alive across garbage collections.' },
      maxRowsPerSheet: { type: 'integer', minimum: 2, maximum: EXCEL_MAX_ROWS, default: EXCEL_MAX_ROWS, description: 'Rows per xlsx sheet, header included (Excel allows 1,048,576).' },
    },
  },
  start(config) {
    const counters: ExportCounters = { active: 0, completed: 0, aborted: 0, failed: 0, rows: 0 };
    const report = () => host.setStatusDetails({ ...counters });
    host.http.mount('/api/export', exportHandler(host, { limits: config.maxRangeDays, pageSize: config.pageSize, maxRowsPerSheet: config.maxRowsPerSheet }, counters, report));
    host.http.describe(exportPathItem());
    report();
  },
}));
