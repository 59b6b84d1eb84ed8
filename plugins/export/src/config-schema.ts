import { DEFAULT_RANGE_LIMITS } from './export-limits.js';
import { EXCEL_MAX_ROWS } from './xlsx-sink.js';

const days = (d: number) => ({ type: 'integer', minimum: 1, maximum: 36600, default: d });

/**
 * The plugin's config schema, in a module of its own (named by
 * `meterhub.schema` in package.json): `meterhub validate` reads it without
 * loading the plugin; the plugin's factory returns the same objects.
 */
export const configSchema = {
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
};
