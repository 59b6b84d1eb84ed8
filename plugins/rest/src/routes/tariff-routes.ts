import type { HostApi } from '@meterhub/sdk';
import { notFound } from '../http-errors.js';
import type { RouteSpec } from '../route-table.js';
import { tariffListSchema, tariffSchema } from '../response-schemas.js';

/**
 * The configured tariffs, for admins. They come from the config file and are
 * read-only here, like the file's meters: a change is made in the file.
 */
export function tariffRoutes(host: HostApi): RouteSpec[] {
  return [
    {
      method: 'get', path: '/api/tariffs/', tag: 'tariffs', access: 'admin', response: tariffListSchema,
      summary: 'The tariffs of the config file, the default tariff and per-meter assignments (read-only)',
      handler: () => ({ ...host.tariffs.assignments(), count: host.tariffs.list().length, results: host.tariffs.list() }),
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
      method: 'get', path: '/api/meters/:id/tariff/', tag: 'tariffs', access: 'admin', response: tariffSchema, summary: 'The tariff a meter pays (its own assignment, else the default)',
      async handler({ params }) {
        const meter = await host.meters.get(params['id']!);
        if (!meter) throw notFound(`meter "${params['id']}"`);
        const tariff = host.tariffs.forMeter(meter.id);
        if (!tariff) throw notFound(`tariff for meter "${meter.id}" (set tariffs.default or tariffs.meters in the config file)`);
        return tariff;
      },
    },
  ];
}
