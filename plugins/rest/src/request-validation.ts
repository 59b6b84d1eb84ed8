import { ajvErrorsToDetails, createAjv, MeterhubError } from '@meterhub/sdk';
import type { ValidateFunction } from 'ajv';

const ajv = createAjv({ coerceTypes: false, useDefaults: true, removeAdditional: false });
const queryAjv = createAjv({ coerceTypes: true, useDefaults: true });
const cache = new WeakMap<object, ValidateFunction>();
const queryCache = new WeakMap<object, ValidateFunction>();

/**
 * Validates a body or query against its JSON Schema (the same schema the
 * OpenAPI document shows) and throws a 400 naming each field at fault.
 * Query strings are coerced (`?points=100` is a number). `at` prefixes the
 * paths of a body part validated on its own (`/groups/3`).
 */
export function validate<T>(schema: object, data: unknown, where: 'body' | 'query', at = ''): T {
  const map = where === 'query' ? queryCache : cache;
  let fn = map.get(schema);
  if (!fn) map.set(schema, (fn = (where === 'query' ? queryAjv : ajv).compile(schema)));
  const copy = where === 'query' ? { ...(data as object) } : data;
  if (!fn(copy)) {
    throw new MeterhubError('METERHUB_ERR_VALIDATION', `the ${where} is not valid`, { details: ajvErrorsToDetails(fn.errors, where === 'query' ? '?' : at) });
  }
  return copy as T;
}
