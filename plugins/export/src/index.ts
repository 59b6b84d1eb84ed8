import { definePlugin } from '@meterhub/sdk';
import { exportHandler, type ExportCounters } from './export-endpoint.js';
import { exportPathItem } from './export-openapi.js';
import type { RangeLimits } from './export-request.js';
import { configSchema } from './config-schema.js';

interface ExportConfig {
  maxRangeDays: RangeLimits;
  pageSize: number;
  maxRowsPerSheet: number;
}

/**
 * `GET /api/export/`: history as CSV or Excel, streamed page by page. The same
 * engine writes files for `meterhub export` (`@meterhub/plugin-export/engine`).
 */
export default definePlugin<ExportConfig>((host) => ({
  name: 'CSV and Excel export',
  configSchema,
  start(config) {
    const counters: ExportCounters = { active: 0, completed: 0, aborted: 0, failed: 0, rows: 0 };
    const report = () => host.setStatusDetails({ ...counters });
    host.http.mount('/api/export', exportHandler(host, { limits: config.maxRangeDays, pageSize: config.pageSize, maxRowsPerSheet: config.maxRowsPerSheet }, counters, report));
    host.http.describe(exportPathItem());
    report();
  },
}));
