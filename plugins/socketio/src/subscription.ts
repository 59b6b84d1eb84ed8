import type { ValidateFunction } from 'ajv';
import {
  compileSchema, ajvErrorsToDetails, isMeasurementId, MeterhubError,
  type LiveSubscribeRequest, type LiveUnsubscribeRequest,
} from '@meterhub/sdk';

/** At most this many meter ids in one request; `"*"` follows any number. */
export const MAX_METERS_PER_REQUEST = 1000;

const OPTIONS = { coerceTypes: false, useDefaults: false, removeAdditional: false } as const;

const metersSchema = {
  oneOf: [
    { const: '*' },
    { type: 'array', minItems: 1, maxItems: MAX_METERS_PER_REQUEST, uniqueItems: true, items: { type: 'string', minLength: 1, maxLength: 64 } },
  ],
};

const validateSubscribe = compileSchema({
  type: 'object',
  required: ['meters'],
  additionalProperties: false,
  properties: {
    type: { const: 'subscribe' },
    id: { type: ['string', 'number'] },
    meters: metersSchema,
    measurements: { type: 'array', minItems: 1, maxItems: 200, uniqueItems: true, items: { type: 'string' } },
    replay: { type: 'boolean' },
  },
}, OPTIONS) as ValidateFunction<LiveSubscribeRequest>;

const validateUnsubscribe = compileSchema({
  type: 'object',
  required: ['meters'],
  additionalProperties: false,
  properties: { type: { const: 'unsubscribe' }, id: { type: ['string', 'number'] }, meters: metersSchema },
}, OPTIONS) as ValidateFunction<LiveUnsubscribeRequest>;

function invalid(errors: Parameters<typeof ajvErrorsToDetails>[0]): MeterhubError {
  const details = ajvErrorsToDetails(errors);
  return new MeterhubError('METERHUB_ERR_VALIDATION', `invalid request: ${details.map((d) => `${d.path || '/'} ${d.message}`).join('; ')}`, { details });
}

/** Checks a subscribe request's shape and its measurement ids (vocabulary ids only). */
export function parseSubscribe(input: unknown): LiveSubscribeRequest {
  if (!validateSubscribe(input)) throw invalid(validateSubscribe.errors);
  const unknown = (input.measurements ?? []).map((m, i) => ({ m, i })).filter(({ m }) => !isMeasurementId(m));
  if (unknown.length) {
    const details = unknown.map(({ m, i }) => ({ path: `/measurements/${i}`, message: `unknown measurement "${m}"` }));
    throw new MeterhubError('METERHUB_ERR_VALIDATION', details.map((d) => d.message).join('; '), { details });
  }
  return input;
}

export function parseUnsubscribe(input: unknown): LiveUnsubscribeRequest {
  if (!validateUnsubscribe(input)) throw invalid(validateUnsubscribe.errors);
  return input;
}

/**
 * What one client follows: all meters or a set of them, optionally narrowed to
 * some measurements. Clients with the same measurement filter share a
 * `filterKey`, so a reading is projected and serialized once per filter.
 */
export class ClientSubscription {
  all = false;
  readonly meters = new Set<string>();
  measurements: readonly string[] | undefined;
  /** False: readings marked `replay` (backlog older than the meter's newest) are left out. */
  replay = true;

  get filterKey(): string {
    return `${this.measurements ? this.measurements.join(',') : ''}${this.replay ? '' : '|live'}`;
  }

  get empty(): boolean {
    return !this.all && this.meters.size === 0;
  }

  follows(meterId: string): boolean {
    return this.all || this.meters.has(meterId);
  }

  /** Adds meters; a new measurement filter replaces the old one for every meter followed. */
  add(request: LiveSubscribeRequest): void {
    if (request.meters === '*') this.all = true;
    else for (const id of request.meters) this.meters.add(id);
    if (request.measurements) this.measurements = [...request.measurements].sort();
    if (request.replay !== undefined) this.replay = request.replay;
  }

  remove(request: LiveUnsubscribeRequest): void {
    if (request.meters === '*') {
      this.all = false;
      this.meters.clear();
      return;
    }
    for (const id of request.meters) this.meters.delete(id);
  }

  /** What the client follows now, as the ack reports it. */
  describe(): { meters: string[] | '*'; measurements?: string[]; replay?: boolean } {
    return { meters: this.all ? '*' : [...this.meters].sort(), ...(this.measurements ? { measurements: [...this.measurements] } : {}), ...(this.replay ? {} : { replay: false }) };
  }
}
