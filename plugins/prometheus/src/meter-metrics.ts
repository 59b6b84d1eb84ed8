import type { MeterSample } from './host-source.js';
import { METRIC_BY_MEASUREMENT, METRIC_PREFIX } from './metric-names.js';
import type { ScrapeBuilder } from './metric-family.js';

/** States a meter can be in; all are emitted per meter (1 for the current one) so a state change is a value change, not a new series. */
const KNOWN_STATES = ['unknown', 'online', 'offline', 'disabled'];

const M = (s: string) => `${METRIC_PREFIX}${s}`;

/** Labels of a measurement (`phase`, `tariff`), frozen once per vocabulary id and shared by every meter and scrape. */
const LABELS: ReadonlyMap<string, Readonly<Record<string, string>>> = new Map(
  [...METRIC_BY_MEASUREMENT].map(([id, m]) => [id, Object.freeze({
    ...(m.phase ? { phase: m.phase } : {}),
    ...(m.tariff ? { tariff: m.tariff } : {}),
  })]),
);

/**
 * Per meter: every value of its newest readings under the vocabulary's metric
 * (see metric-names.ts), its state, when it was last seen, and its polling
 * counters. Cost: one pass over meters x measurements.
 */
export function addMeterMetrics(out: ScrapeBuilder, meters: readonly MeterSample[], now: number): void {
  for (const meter of meters) {
    // One object per meter per scrape: prom-client flattens shared labels once per object.
    const shared = Object.freeze({ meter: meter.id });
    for (const id in meter.values) {
      const mapping = METRIC_BY_MEASUREMENT.get(id);
      if (!mapping) continue;
      out.add(mapping.name, mapping.help, mapping.type, meter.values[id]! * mapping.factor, LABELS.get(id)!, shared);
    }
  }

  for (const meter of meters) {
    const shared = { meter: meter.id };
    out.add(M('meter_info'), 'A meter: its name, driver, model and bus; always 1.', 'gauge', 1, {
      ...(meter.name ? { name: meter.name } : {}),
      ...(meter.driver ? { driver: meter.driver } : {}),
      ...(meter.model ? { model: meter.model } : {}),
      ...(meter.bus ? { bus: meter.bus } : {}),
    }, shared);
    out.add(M('meter_up'), '1 while the meter answers (state online), else 0.', 'gauge', meter.state === 'online' ? 1 : 0, {}, shared);
    const states = KNOWN_STATES.includes(meter.state) ? KNOWN_STATES : [...KNOWN_STATES, meter.state];
    for (const state of states) {
      out.add(M('meter_state'), 'The meter\'s state: 1 for the current one of unknown, online, offline, disabled.', 'gauge', state === meter.state ? 1 : 0, { state }, shared);
    }
    if (meter.lastSeen !== undefined) {
      out.add(M('meter_last_reading_timestamp_seconds'), 'Time of the meter\'s newest reading, in seconds since the epoch.', 'gauge', meter.lastSeen / 1000, {}, shared);
      out.add(M('meter_last_reading_age_seconds'), 'Seconds since the meter\'s newest reading, at scrape time.', 'gauge', Math.max(0, now - meter.lastSeen) / 1000, {}, shared);
    }
    if (meter.polling) {
      out.add(M('meter_poll_cycles_total'), 'Poll cycles of the meter since the host started.', 'counter', meter.polling.cycles, {}, shared);
      out.add(M('meter_poll_failed_cycles_total'), 'Poll cycles of the meter that failed.', 'counter', meter.polling.failedCycles, {}, shared);
      out.add(M('meter_poll_overruns_total'), 'Poll cycles skipped because the previous one was still running (the interval is too short for the bus).', 'counter', meter.polling.overruns, {}, shared);
      out.add(M('meter_invalid_values_total'), 'Values the meter returned that failed plausibility checks and were dropped.', 'counter', meter.polling.invalidValues, {}, shared);
    }
  }
}
