import type { HostApi } from '@meterhub/sdk';
import { notFound } from '../http-errors.js';
import type { RouteSpec } from '../route-table.js';
import { tariffListSchema, tariffSchema } from '../response-schemas.js';

type Schema = { properties: Record<string, Schema>; required?: string[]; items?: Schema; additionalProperties?: Schema };

/**
 * The bodies the tariff routes take, cut from the config file's `tariffs`
 * section schema (the host's, not a copy): a tariff, a price period, a
 * tariff id. A PUT takes the id from its path, so there it may be left out.
 */
function bodySchemas(section: Schema) {
  const tariff = section.properties['list']!.items!;
  const id = section.properties['default']!;
  const nullableId = { anyOf: [id, { type: 'null' }] };
  return {
    tariff,
    replacement: { ...tariff, required: (tariff.required ?? []).filter((r) => r !== 'id') },
    version: tariff.properties['versions']!.items!,
    assignment: { type: 'object', additionalProperties: false, required: ['tariff'], properties: { tariff: id } },
    defaults: { type: 'object', additionalProperties: false, required: ['default'], properties: { default: nullableId } },
  };
}

/**
 * Tariffs for admins: those of the config file are read-only here (409 naming
 * the file, like the file's meters); those made here are stored in the
 * database. A change applies to the next consumption answer.
 */
export function tariffRoutes(host: HostApi): RouteSpec[] {
  const bodies = bodySchemas(host.tariffs.schema() as unknown as Schema);
  const list = () => ({ ...host.tariffs.assignments(), count: host.tariffs.list().length, results: host.tariffs.list() });
  const meterTariff = async (id: string) => {
    const meter = await host.meters.get(id);
    if (!meter) throw notFound(`meter "${id}"`);
    const tariff = host.tariffs.forMeter(meter.id);
    if (!tariff) throw notFound(`tariff for meter "${meter.id}" (assign one with PUT /api/meters/${meter.id}/tariff/, or set a default)`);
    return tariff;
  };
  return [
    {
      method: 'get', path: '/api/tariffs/', tag: 'tariffs', access: 'admin', response: tariffListSchema,
      summary: 'Every tariff (of the config file and made here), the default tariff and per-meter assignments',
      handler: list,
    },
    {
      method: 'post', path: '/api/tariffs/', tag: 'tariffs', access: 'admin', body: bodies.tariff, status: 201, response: tariffSchema, errors: [409],
      summary: 'Create a tariff, checked as the config file\'s are (windows cover each minute of the week once, known currency and zone); stored in the database',
      handler: ({ body }) => host.tariffs.create(body),
    },
    {
      method: 'patch', path: '/api/tariffs/', tag: 'tariffs', access: 'admin', body: bodies.defaults, response: tariffListSchema, errors: [409],
      summary: 'Set the default tariff (of every meter without one of its own; null: none). A default set in the config file answers 409',
      async handler({ body }) {
        await host.tariffs.setDefault((body as { default: string | null }).default);
        return list();
      },
    },
    {
      method: 'get', path: '/api/tariffs/:id/', tag: 'tariffs', access: 'admin', response: tariffSchema, summary: 'One tariff',
      handler({ params }) {
        const tariff = host.tariffs.list().find((t) => t.id === params['id']);
        if (!tariff) throw notFound(`tariff "${params['id']}"`);
        return tariff;
      },
    },
    {
      method: 'put', path: '/api/tariffs/:id/', tag: 'tariffs', access: 'admin', body: bodies.replacement, response: tariffSchema, errors: [409],
      summary: 'Replace a tariff made here, prices of past days included (to change prices from a date on, add a price period); config-file tariffs answer 409',
      handler: ({ params, body }) => host.tariffs.replace(params['id']!, body as Record<string, unknown>),
    },
    {
      method: 'delete', path: '/api/tariffs/:id/', tag: 'tariffs', access: 'admin', status: 204, errors: [409],
      summary: 'Delete a tariff made here; 409 while a meter or the default is assigned to it, or for a config-file tariff',
      async handler({ params }) {
        await host.tariffs.remove(params['id']!);
        return undefined;
      },
    },
    {
      method: 'post', path: '/api/tariffs/:id/versions/', tag: 'tariffs', access: 'admin', body: bodies.version, status: 201, response: tariffSchema, errors: [409],
      summary: 'Add a price period: its prices apply from the local midnight of validFrom on, earlier days keep theirs. Answers the whole tariff',
      handler: ({ params, body }) => host.tariffs.addVersion(params['id']!, body),
    },
    {
      method: 'get', path: '/api/meters/:id/tariff/', tag: 'tariffs', access: 'admin', response: tariffSchema, summary: 'The tariff a meter pays (its own assignment, else the default)',
      handler: ({ params }) => meterTariff(params['id']!),
    },
    {
      method: 'put', path: '/api/meters/:id/tariff/', tag: 'tariffs', access: 'admin', body: bodies.assignment, response: tariffSchema, errors: [409],
      summary: 'Assign a meter its tariff, e.g. `{"tariff": "night-saver"}`; a meter assigned in the config file answers 409',
      async handler({ params, body }) {
        await host.tariffs.assign(params['id']!, (body as { tariff: string }).tariff);
        return meterTariff(params['id']!);
      },
    },
    {
      method: 'delete', path: '/api/meters/:id/tariff/', tag: 'tariffs', access: 'admin', status: 204, errors: [409],
      summary: 'Remove a meter\'s own tariff: it pays the default (if any)',
      async handler({ params }) {
        await host.tariffs.assign(params['id']!, null);
        return undefined;
      },
    },
  ];
}
