import { getMeasurement, type Disposer, type HostApi, type MeasurementDefinition, type MeterRecord, type MeterStateEvent } from '@meterhub/sdk';

/**
 * Everything the plugin reads from the host, in one place: when the host's
 * reading pipeline or meter registry changes shape, only this file follows.
 */

export type Availability = 'online' | 'offline';

/** A meter as the MQTT side needs it. */
export interface MeterInfo {
  id: string;
  name: string;
  vendor: string;
  model: string;
  /** The selected measurements (the meter's list, or every measurement of its driver). */
  measurements: readonly MeterMeasurement[];
}

export type MeterMeasurement = MeasurementDefinition;

export interface HostFeedHandlers {
  reading(meterId: string, ts: number, values: Readonly<Record<string, number>>): void;
  availability(meterId: string, availability: Availability): void;
  /** The whole meter list, at start and after every change. */
  meters(meters: readonly MeterInfo[]): void;
}

/**
 * The registry has no change event: its `list()` answers frozen views shared
 * until the next change, so comparing them by reference every couple of
 * seconds costs a few pointer checks.
 */
const REGISTRY_POLL_MS = 2000;

/** `unknown` (not polled yet) says nothing; any state but `online` (offline, or a stale pushed meter) makes it unavailable. */
function availabilityOf(state: MeterStateEvent['state']): Availability | undefined {
  if (state === 'unknown') return undefined;
  return state === 'online' ? 'online' : 'offline';
}

function infoOf(host: HostApi, record: MeterRecord): MeterInfo {
  const driver = record.driver === undefined ? undefined : host.drivers.get(record.driver);
  const fromDriver = driver ? [...driver.byMeasurement.values()].map((r) => r.measurement) : [];
  const selected = record.measurements?.length
    ? record.measurements.map((id) => driver?.resolve(id)?.measurement ?? getMeasurement(id)).filter((m): m is MeasurementDefinition => Boolean(m))
    : fromDriver;
  return {
    id: record.id,
    name: record.name ?? record.id,
    vendor: driver?.definition.vendor ?? 'unknown',
    model: driver?.definition.model ?? record.driver ?? 'pushed meter',
    measurements: [...new Map(selected.map((m) => [m.id, m])).values()],
  };
}

/** Subscribes to readings, meter states and the registry; returns the disposer. */
export function followHost(host: HostApi, handlers: HostFeedHandlers): Disposer {
  const known = new Map<string, Availability>();
  const setAvailability = (meterId: string, a: Availability) => {
    if (known.get(meterId) === a) return;
    known.set(meterId, a);
    handlers.availability(meterId, a);
  };
  for (const event of host.meterStates.current()) {
    const a = availabilityOf(event.state);
    if (a) setAvailability(event.meterId, a);
  }
  const offStates = host.meterStates.subscribe((event) => {
    const a = availabilityOf(event.state);
    if (a) setAvailability(event.meterId, a);
  });
  const offReadings = host.readings.subscribe((reading) => {
    // Pushed and forwarded meters have no polling state: a reading is their sign of life.
    if (!known.has(reading.meterId)) setAvailability(reading.meterId, 'online');
    handlers.reading(reading.meterId, reading.ts, reading.values);
  });

  let last: readonly MeterRecord[] = [];
  let stopped = false;
  const poll = async () => {
    const records = await host.meters.list();
    if (stopped || (records.length === last.length && records.every((r, i) => r === last[i]))) return;
    last = records;
    const ids = new Set(records.map((r) => r.id));
    for (const id of known.keys()) if (!ids.has(id)) known.delete(id);
    handlers.meters(records.map((r) => infoOf(host, r)));
  };
  const pollLogged = () => poll().catch((err: unknown) => host.log.warn({ err }, 'reading the meter list failed'));
  let running = pollLogged();
  const timer = setInterval(() => {
    running = running.then(pollLogged);
  }, REGISTRY_POLL_MS);
  timer.unref();
  return async () => {
    stopped = true;
    clearInterval(timer);
    offStates();
    offReadings();
    await running;
  };
}
