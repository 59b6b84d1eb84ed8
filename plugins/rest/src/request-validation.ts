import { ajvErrorsToDetails, compileSchema, MeterhubError } from '@meterhub/sdk';
import type { ValidateFunction } from 'ajv';

const BODY_OPTIONS = { coerceTypes: false, useDefaults: true, removeAdditional: false } as const;
const QUERY_OPTIONS = { coerceTypes: true, useDefaults: true } as const;
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
  if (!fn) map.set(schema, (fn = compileSchema(schema as Record<string, unknown>, where === 'query' ? QUERY_OPTIONS : BODY_OPTIONS)));
  const copy = where === 'query' ? { ...(data as object) } : data;
  if (!fn(copy)) {
    throw new MeterhubError('METERHUB_ERR_VALIDATION', `the ${where} is not valid`, { details: ajvErrorsToDetails(fn.errors, where === 'query' ? '?' : at) });
  }
  return copy as T;
}
