import { EXPORT_QUERY_SCHEMA } from './export-request.js';
import { CONTENT_TYPES } from './table-sink.js';

const ref = (name: string) => ({ $ref: `#/components/responses/${name}` });

/** `/api/export/` as an OpenAPI 3.1 path item, from the query schema the endpoint validates with. */
export function exportPathItem(): Record<string, Record<string, unknown>> {
  const required: readonly string[] = EXPORT_QUERY_SCHEMA.required;
  const op = (summary: string, withBody: boolean) => ({
    tags: ['export'],
    summary,
    security: [{ bearer: [] }, { apiKey: [] }],
    'x-meterhub-access': 'read',
    parameters: Object.entries(EXPORT_QUERY_SCHEMA.properties).map(([name, schema]) => ({ name, in: 'query', required: required.includes(name), schema })),
    responses: {
      200: {
        description: 'the file, streamed (attachment; a failure mid-stream cuts the connection, never a short file reported complete)',
        headers: { 'Content-Disposition': { schema: { type: 'string' } } },
        content: withBody
          ? { [CONTENT_TYPES.csv]: { schema: { type: 'string' } }, [CONTENT_TYPES.xlsx]: { schema: { type: 'string', contentEncoding: 'binary' } } }
          : undefined,
      },
      400: ref('BadRequest'), 401: ref('Unauthorized'), 403: ref('Forbidden'), 404: ref('NotFound'), 405: ref('MethodNotAllowed'), 503: ref('Unavailable'), default: ref('Error'),
    },
  });
  const head = op('The headers of the export, without the file', false);
  delete (head.responses[200] as { content?: unknown }).content;
  return {
    '/api/export/': {
      get: { ...op('History of one or more meters as CSV or Excel (xlsx), streamed page by page', true), operationId: 'getApiExport' },
      head: { ...head, operationId: 'headApiExport' },
    },
  };
}
