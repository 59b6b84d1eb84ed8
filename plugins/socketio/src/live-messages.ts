import {
  LIVE_PROTOCOL_VERSION, MeterhubError, describeError, isMeterhubError,
  type LiveAck, type LiveMeterStateMessage, type LiveReadingMessage, type MeterStateEvent, type Reading,
} from '@meterhub/sdk';

/** The values of `values` that `measurements` selects (all when no filter). */
export function project(values: Readonly<Record<string, number>>, measurements: readonly string[] | undefined): Record<string, number> {
  if (!measurements) return values as Record<string, number>;
  const out: Record<string, number> = {};
  for (const m of measurements) {
    const v = values[m];
    if (v !== undefined) out[m] = v;
  }
  return out;
}

export function readingMessage(reading: Reading, measurements: readonly string[] | undefined): LiveReadingMessage {
  return {
    type: 'reading', v: LIVE_PROTOCOL_VERSION, meterId: reading.meterId, ts: reading.ts, values: project(reading.values, measurements),
    ...(reading.source ? { source: reading.source } : {}), ...(reading.replay ? { replay: true as const } : {}),
  };
}

export function stateMessage(event: MeterStateEvent): LiveMeterStateMessage {
  return {
    type: 'meter-state', v: LIVE_PROTOCOL_VERSION, meterId: event.meterId, state: event.state, at: event.at,
    ...(event.error ? { error: event.error } : {}), ...(event.lastSeen !== undefined ? { lastSeen: event.lastSeen } : {}),
  };
}

/**
 * Folds a newer reading into one still waiting for a slow client: the newest
 * value of each measurement wins, so the client loses intermediate values but
 * never a measurement, and learns how many readings were merged.
 */
export function mergeReading(older: LiveReadingMessage, newer: LiveReadingMessage): LiveReadingMessage {
  return {
    type: 'reading', v: LIVE_PROTOCOL_VERSION, meterId: newer.meterId, ts: Math.max(older.ts, newer.ts),
    values: newer.ts >= older.ts ? { ...older.values, ...newer.values } : { ...newer.values, ...older.values },
    ...(newer.source ? { source: newer.source } : {}), ...(older.replay && newer.replay ? { replay: true as const } : {}),
    merged: (older.merged ?? 0) + (newer.merged ?? 0) + 1,
  };
}

export function okAck(id: string | number | undefined, what: { meters: string[] | '*'; measurements?: string[] }): LiveAck {
  return { type: 'ack', v: LIVE_PROTOCOL_VERSION, ...(id !== undefined ? { id } : {}), ok: true, ...what };
}

export function errorAck(id: string | number | undefined, err: unknown): LiveAck {
  const coded = isMeterhubError(err) ? err : new MeterhubError('METERHUB_ERR_INTERNAL', describeError(err));
  return {
    type: 'ack', v: LIVE_PROTOCOL_VERSION, ...(id !== undefined ? { id } : {}), ok: false,
    error: { code: coded.code, message: coded.message, ...(coded.details.length ? { details: coded.details.map((d) => ({ path: d.path, message: d.message })) } : {}) },
  };
}
